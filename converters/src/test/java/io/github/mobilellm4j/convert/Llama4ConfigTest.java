package io.github.mobilellm4j.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import io.github.mobilellm4j.convert.hf.HfConfig;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Llama 4 text configs (MobileLLM-R1: Llama4ForCausalLM; MobileLLM-Pro: MobileLLMP1ForCausalLM): each
 * layer's RoPE / NoPE, QK-norm, temperature tuning and window as transformers reads them, the GGUF
 * architecture chosen, and the forms this engine does not run refused with the field named. The
 * configs are the committed tiny checkpoints' (written by transformers); llama.cpp's own GGUF of one of
 * them is the independent reference for the RoPE factors and the llama4 keys.
 */
class Llama4ConfigTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path CHECKPOINTS = Path.of("..", "testdata", "checkpoints");

    @TempDir
    Path tmp;

    /** The committed config of checkpoint `name`, changed by `edit`, read back. */
    HfConfig read(String name, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode n = (ObjectNode) JSON.readTree(CHECKPOINTS.resolve(name).resolve("config.json").toFile());
        edit.accept(n);
        Path f = tmp.resolve(name + ".json");
        JSON.writeValue(f.toFile(), n);
        return HfConfig.read(f);
    }

    @Test
    void r1IsDenseLlama4WithQkNormOnEveryLayer() throws Exception {
        HfConfig c = read("r1-tiny-bf16", n -> { });
        assertThat(c.family()).isEqualTo(HfConfig.Family.LLAMA4_TEXT);
        assertThat(c.attention().allRopeFull()).isTrue();
        assertThat(c.attention().qkNorm()).isTrue();
        assertThat(c.ropeScaling()).as("rope_parameters of transformers 5: llama3").isNotNull();
        assertThat(c.intermediateSize()).as("intermediate_size_mlp").isEqualTo(256);
        assertThat(c.eosTokenId()).as("the first of the list").isEqualTo(1257);
        assertThat(Converter.architecture(c, false)).isEqualTo("llama4");
    }

    @Test
    void proLayersFollowLayerTypesAndNoRopeLayers() throws Exception {
        HfConfig c = read("pro-tiny-bf16", n -> { });
        assertThat(c.family()).isEqualTo(HfConfig.Family.MOBILELLM_PRO);
        List<HfConfig.LayerAttention> l = c.attention().layers();
        assertThat(l).hasSize(8);
        // layer_types: full at 0, 4, 7; no_rope_layers: 0 (NoPE) at the same layers
        for (int i = 0; i < 8; i++) {
            boolean global = i == 0 || i == 4 || i == 7;
            assertThat(l.get(i)).as("layer %d", i).isEqualTo(new HfConfig.LayerAttention(!global, global ? 0 : 8));
        }
        assertThat(c.attention().temperatureTuning()).isTrue();
        assertThat(c.attention().floorScale()).isEqualTo(4);
        assertThat(c.attention().temperatureScale()).isEqualTo(0.1f);
        assertThat(Converter.architecture(c, false)).isEqualTo("mobilellm-pro");
    }

    @Test
    void transformersDefaultsMakeEveryFourthLayerNoPE() throws Exception {
        HfConfig c = read("r1-tiny-bf16", n -> {
            n.remove("no_rope_layers");
            n.remove("layer_types");
            n.put("attention_chunk_size", 1 << 20);
        });
        assertThat(c.attention().layers()).extracting(HfConfig.LayerAttention::rope).containsExactly(true, true, true, false);
        assertThat(Converter.architecture(c, false)).as("a NoPE layer needs our own architecture").isEqualTo("mobilellm-pro");
    }

    @Test
    void unsupportedFormsAreRefusedNamingTheField() {
        assertThatThrownBy(() -> read("r1-tiny-bf16", n -> n.putArray("moe_layers").add(1)))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"moe_layers\"").hasMessageContaining("mixture-of-experts");
        assertThatThrownBy(() -> read("r1-tiny-bf16", n -> {
            n.remove("moe_layers");
            n.put("interleave_moe_layer_step", 1);
        })).isInstanceOf(ConversionException.class).hasMessageContaining("\"interleave_moe_layer_step\"");
        assertThatThrownBy(() -> read("r1-tiny-bf16", n -> {
            n.remove("layer_types");
            n.put("attention_chunk_size", 8192);
        })).isInstanceOf(ConversionException.class).hasMessageContaining("chunked attention").hasMessageContaining("\"attention_chunk_size\"");
        assertThatThrownBy(() -> read("r1-tiny-bf16", n -> n.putArray("layer_types").add("sliding_attention").add("full_attention")
                .add("full_attention").add("full_attention")))
                .isInstanceOf(ConversionException.class).hasMessageContaining("only supported for MobileLLM-Pro");
        assertThatThrownBy(() -> read("pro-tiny-bf16", n -> n.remove("sliding_window")))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"sliding_window\" is missing");
        assertThatThrownBy(() -> read("pro-tiny-bf16", n -> n.putArray("layer_types").add("moe")))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"layer_types\" must be a list of 8 strings");
        assertThatThrownBy(() -> read("pro-tiny-bf16", n -> n.putArray("no_rope_layers").add(2).add(1).add(1).add(1).add(0).add(1).add(1).add(0)))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"no_rope_layers\" entries must be 0 (NoPE) or 1 (RoPE)");
        assertThatThrownBy(() -> read("pro-tiny-bf16", n -> n.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0)))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"rope_scaling\": RoPE type 'yarn' is not supported");
        assertThatThrownBy(() -> read("pro-tiny-bf16", n -> n.put("use_qk_norm", "yes")))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"use_qk_norm\" must be true or false");
        assertThatThrownBy(() -> read("pro-tiny-bf16", n -> n.put("rope_local_base_freq", 10000.0)))
                .isInstanceOf(ConversionException.class).hasMessageContaining("\"rope_local_base_freq\"");
    }

    /** llama.cpp's converter computed rope_freqs.weight from the same config (MobileLLM-R1's Llama 3 scaling). */
    @Test
    void ropeFactorsEqualLlamaCpps() throws Exception {
        HfConfig c = HfConfig.read(CHECKPOINTS.resolve("r1-llama3vocab-bf16/config.json"));
        float[] ours = c.ropeScaling().factors(c.headDim(), c.ropeTheta());
        try (GgufReader r = GgufReader.open(llamaCppFile())) {
            GgufTensorInfo t = r.tensor("rope_freqs.weight");
            assertThat(t.ne()).containsExactly(ours.length);
            MemorySegment data = r.tensorData(t);
            float[] theirs = data.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
            // both compute in double and round once to float32; 1e-6 relative allows a last-bit difference
            for (int i = 0; i < ours.length; i++) {
                assertThat(ours[i]).as("factor %d", i).isCloseTo(theirs[i], org.assertj.core.api.Assertions.withinPercentage(1e-4));
            }
            assertThat(theirs).as("the three regimes: kept, smoothed, divided by the factor").contains(1f, 8f);
        }
    }

    /** Our llama4 file has exactly the llama4.* keys llama.cpp's converter writes, so llama.cpp reads it as it reads its own. */
    @Test
    void r1FileHasLlamaCppsKeys() throws Exception {
        Path out = tmp.resolve("r1.gguf");
        Converter.convert(CHECKPOINTS.resolve("r1-tiny-bf16"), out, ConvertOptions.defaults().withType(OutputType.parse("q8_0")));
        try (GgufReader ours = GgufReader.open(out); GgufReader theirs = GgufReader.open(llamaCppFile())) {
            assertThat(ours.getString("general.architecture")).isEqualTo("llama4");
            assertThat(archKeys(ours)).isEqualTo(archKeys(theirs));
            assertThat(ours.get("llama4.attention.sliding_window").asLong()).isZero();
            assertThat(ours.get("llama4.expert_count").asLong()).isZero();
            assertThat(ours.tensor("rope_freqs.weight")).isNotNull();
            assertThat(ours.tensor("rope_freqs.weight").type()).isEqualTo(theirs.tensor("rope_freqs.weight").type());
            assertThat(ours.tensor("output.weight")).as("tied").isNull();
        }
    }

    private static Set<String> archKeys(GgufReader r) {
        return r.metadata().keySet().stream().filter(k -> k.startsWith("llama4.")).collect(Collectors.toCollection(TreeSet::new));
    }

    private Path llamaCppFile() throws Exception {
        Path f = tmp.resolve("llamacpp-r1.gguf");
        if (!Files.exists(f)) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(Path.of("..", "testdata", "llamacpp", "r1-llama3vocab-q8_0.gguf.gz")))) {
                Files.copy(in, f);
            }
        }
        return f;
    }
}
