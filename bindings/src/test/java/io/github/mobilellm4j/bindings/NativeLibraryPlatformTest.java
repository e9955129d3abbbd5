package io.github.mobilellm4j.bindings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which platform jar the loader looks for, what it says when there is none, and the module path. */
class NativeLibraryPlatformTest {

    @TempDir
    Path tmp;

    private NativeLibrary.Settings settings(String platform, ClassLoader cl, String modulePath) {
        return new NativeLibrary.Settings(null, null, tmp.resolve("cache").toString(), null, tmp.toString(), cl,
                platform, NativeLibrary.nativeFileName(platform), "9.9.9-test", modulePath);
    }

    @Test
    void unsupportedPlatformNamesThePlatformsThatExist() throws IOException {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> NativeLibrary.locate(settings("freebsd-riscv64", empty, null)))
                    .isInstanceOf(UnsatisfiedLinkError.class)
                    .hasMessageContaining("no native library for freebsd-riscv64")
                    .hasMessageContaining("linux-x86_64, linux-aarch64, windows-x86_64, macos-aarch64, macos-x86_64")
                    .hasMessageContaining(NativeLibrary.LIBRARY_PATH_PROPERTY);
        }
    }

    @Test
    void missingPlatformJarNamesTheArtifactToAdd() throws IOException {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> NativeLibrary.locate(settings("windows-x86_64", empty, null)))
                    .isInstanceOf(UnsatisfiedLinkError.class)
                    .hasMessageContaining("io/github/mobilellm4j/native/windows-x86_64/mobilellm.dll: not found")
                    .hasMessageContaining("io.github.mobilellm4j:mobilellm4j-native:9.9.9-test with classifier windows-x86_64")
                    .hasMessageContaining("io.github.mobilellm4j:mobilellm4j,");
        }
    }

    @Test
    void missingPlatformJarListsThePlatformJarsThatArePresent() throws IOException {
        Path other = Files.createDirectories(tmp.resolve("other/io/github/mobilellm4j/native/macos-aarch64"));
        Files.write(other.resolve("libmobilellm.dylib"), new byte[] {1});
        try (URLClassLoader cl = new URLClassLoader(new URL[] {tmp.resolve("other").toUri().toURL()}, null)) {
            assertThatThrownBy(() -> NativeLibrary.locate(settings("linux-x86_64", cl, null)))
                    .hasMessageContaining("the class path has the native libraries of macos-aarch64 only");
        }
    }

    @Test
    void platformJarOnTheModulePathIsFoundWithoutBeingResolved() throws IOException {
        // A platform jar as the build makes it, alone in a module path folder that no module requires.
        byte[] lib = TestSupport.bundledLibrary();
        String platform = NativeLibrary.platformId();
        Path modules = Files.createDirectories(tmp.resolve("mods"));
        writeJar(modules.resolve("mobilellm4j-native-" + platform + ".jar"), NativeLibrary.nativeModuleName(platform),
                NativeLibrary.RESOURCE_ROOT + platform + "/" + NativeLibrary.libraryFileName(), lib);
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            NativeLibrary.Located found = NativeLibrary.locate(settings(platform, empty, modules.toString()));
            assertThat(found.source()).contains("of module " + NativeLibrary.nativeModuleName(platform));
            assertThat(Files.readAllBytes(found.path())).isEqualTo(lib);
        }
    }

    @Test
    void nativeModuleNamesAreLegalAndDistinct() {
        assertThat(NativeLibrary.PLATFORMS).extracting(NativeLibrary::nativeModuleName)
                .containsExactly("io.github.mobilellm4j.natives.linux.x86_64", "io.github.mobilellm4j.natives.linux.aarch64",
                        "io.github.mobilellm4j.natives.windows.x86_64", "io.github.mobilellm4j.natives.macos.aarch64",
                        "io.github.mobilellm4j.natives.macos.x86_64")
                .allSatisfy(name -> assertThat(java.lang.module.ModuleDescriptor.newModule(name).build().name()).isEqualTo(name));
    }

    private static void writeJar(Path jar, String moduleName, String entry, byte[] content) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Automatic-Module-Name", moduleName);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new JarEntry(entry));
            j.write(content);
            j.closeEntry();
        }
    }
}
