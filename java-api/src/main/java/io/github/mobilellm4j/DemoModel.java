package io.github.mobilellm4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The small demonstration model bundled in this jar (a MobileLLM-architecture model trained by the project
 * on Debian's licence texts; see models/demo/MODEL_CARD.md). It is extracted once to a cache folder.
 */
public final class DemoModel {
    /** Resource path of the bundled GGUF. */
    public static final String RESOURCE = "/io/github/mobilellm4j/demo/mobilellm-demo-q8_0.gguf";
    /** A prompt the demo model continues well. */
    public static final String EXAMPLE_PROMPT = "The licenses for most software are designed to";

    private static Path cached;

    private DemoModel() {
    }

    /** Path of the extracted demo GGUF (extracted on first use, atomically, safe across JVMs). */
    public static synchronized Path path() {
        if (cached != null && Files.isRegularFile(cached)) return cached;
        try (InputStream in = DemoModel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the demo model " + RESOURCE + " is missing from the classpath");
            }
            byte[] bytes = in.readAllBytes();
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
            Path dir = cacheDir();
            Files.createDirectories(dir);
            Path target = dir.resolve("mobilellm-demo-" + hash + ".gguf");
            if (!Files.isRegularFile(target) || Files.size(target) != bytes.length) {
                Path tmp = Files.createTempFile(dir, "demo", ".tmp");
                try {
                    Files.write(tmp, bytes);
                    try {
                        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            cached = target;
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the demo model", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path cacheDir() {
        String dir = System.getProperty("mobilellm.cache.dir");
        if (dir == null || dir.isBlank()) dir = System.getenv("MOBILELLM_CACHE_DIR");
        if (dir == null || dir.isBlank()) dir = System.getProperty("user.home") + "/.cache/mobilellm4j";
        return Path.of(dir);
    }
}
