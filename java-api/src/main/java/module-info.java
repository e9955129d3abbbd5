/**
 * mobilellm4j: Meta's MobileLLM small language models in-process on the JVM.
 *
 * <p>Start with {@link io.github.mobilellm4j.Model}. The native engine comes from a platform jar
 * ({@code io.github.mobilellm4j:mobilellm4j-native} with the platform as classifier, or all of them
 * through {@code io.github.mobilellm4j:mobilellm4j}); the JVM needs
 * {@code --enable-native-access=io.github.mobilellm4j.bindings,io.github.mobilellm4j} on the module path.
 */
module io.github.mobilellm4j {
    requires io.github.mobilellm4j.bindings;
    // chat templates: Jinjava (its expression resolvers' API uses java.beans), which calls the
    // template functions of io.github.mobilellm4j.chat reflectively
    requires jinjava;
    requires java.desktop;
    opens io.github.mobilellm4j.chat to jinjava;
    // Jinjava has no module-info, so nothing would put the named modules it uses into the module
    // graph: this module requires them on its behalf.
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.dataformat.yaml;
    requires com.fasterxml.jackson.datatype.jdk8;
    requires org.apache.commons.lang3;
    requires org.slf4j;

    // evaluation data in Parquet (the Hugging Face Hub's format); hardwood has no module-info
    requires dev.hardwood.core;

    exports io.github.mobilellm4j;
    exports io.github.mobilellm4j.chat;
    exports io.github.mobilellm4j.eval;
    exports io.github.mobilellm4j.sampling;
    exports io.github.mobilellm4j.service;
}
