/**
 * FFM bindings of the mobilellm4j engine's C API and the loader of its native library.
 *
 * <p>The native library comes from a platform jar ({@code io.github.mobilellm4j:mobilellm4j-native}
 * with the platform as classifier); on the module path those jars are automatic modules named
 * {@code io.github.mobilellm4j.natives.<os>.<arch>} that nothing needs to require.
 */
module io.github.mobilellm4j.bindings {
    exports io.github.mobilellm4j.bindings;
    exports io.github.mobilellm4j.bindings.internal to io.github.mobilellm4j;
}
