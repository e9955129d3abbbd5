package io.github.mobilellm4j;

import io.github.mobilellm4j.bindings.NativeLibrary;
import io.github.mobilellm4j.bindings.internal.BundledResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The small demonstration model (a MobileLLM-architecture model trained by the project on Debian's licence
 * texts; its model card is in the artifact's sources jar). It lives in its own artifact,
 * {@value #ARTIFACT}, so that applications do not ship it unless they want it; {@link Model#loadDemo()} copies
 * it to a cache folder once and loads it from there.
 */
public final class DemoModel {
    /** Maven coordinates of the demo model's jar (without the version). */
    public static final String ARTIFACT = "io.github.mobilellm4j:mobilellm4j-demo-model";
    /** Resource path of the GGUF file in that jar. */
    public static final String RESOURCE = "io/github/mobilellm4j/demo/mobilellm-demo-q8_0.gguf";
    /** Module name of that jar on the module path. */
    static final String MODULE = "io.github.mobilellm4j.demo";
    /** A prompt the demo model continues well. */
    public static final String EXAMPLE_PROMPT = "The licenses for most software are designed to";

    private static Path cached;

    private DemoModel() {
    }

    /**
     * Path of the extracted demo GGUF (extracted on first use, atomically, safe across JVMs).
     *
     * @throws IllegalStateException naming the artifact to add when it is not on the class path or module path
     */
    public static synchronized Path path() {
        if (cached == null || !Files.isRegularFile(cached)) {
            cached = extract(DemoModel.class.getClassLoader(), System.getProperty("jdk.module.path"),
                    BundledResources.cacheRoot(System.getProperty(NativeLibrary.CACHE_DIR_PROPERTY),
                            System.getenv(NativeLibrary.CACHE_DIR_ENV), System.getProperty("user.home")));
        }
        return cached;
    }

    static Path extract(ClassLoader loader, String modulePath, Path cacheRoot) {
        try {
            BundledResources.Found found = BundledResources.read(loader, RESOURCE, MODULE, modulePath)
                    .orElseThrow(() -> new IllegalStateException("The demo model is not on the class path"
                            + (modulePath == null ? "" : " or the module path") + ": add the dependency " + ARTIFACT
                            + ":" + NativeLibrary.version() + " (a separate artifact, so that applications do not"
                            + " ship it), or load a model file with Model.load(path)."));
            String hash = BundledResources.sha256(found.bytes()).substring(0, 16);
            Path target = cacheRoot.resolve("mobilellm-demo-" + hash + ".gguf");
            BundledResources.extract(found.bytes(), target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the demo model to " + cacheRoot, e);
        }
    }
}
