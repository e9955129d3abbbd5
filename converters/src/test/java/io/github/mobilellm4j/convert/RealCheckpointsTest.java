package io.github.mobilellm4j.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.hf.SourceTensor;
import io.github.mobilellm4j.convert.hf.WeightSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checkpoints under testdata/checkpoints were written by torch / transformers / safetensors
 * (testdata/reference/*.json describes each). They must convert, with the shapes and layer
 * layout the reference describes, and (for safetensors) the same values an independent minimal
 * parser in this test reads.
 */
class RealCheckpointsTest {
    static final Path DATA = Path.of("..", "testdata");
    /** The checkpoints in one model.safetensors file, whose values this test also reads on its own. */
    static final Set<String> SINGLE_SAFETENSORS = Set.of("llama-f32", "mobilellm-ls-f16");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama-f32", "llama-sharded-bf16-lmhead", "mobilellm-bin-bf16", "mobilellm-ls-f16"})
    void convertsAsTheReferenceDescribes(String name) throws Exception {
        Path dir = DATA.resolve("checkpoints").resolve(name);
        JsonNode arch = new ObjectMapper().readTree(DATA.resolve("reference").resolve(name + ".json").toFile()).get("architecture");
        Set<String> dtypes = new TreeSet<>();
        try (WeightSet ws = Converter.openWeights(dir)) {
            assertThat(ws.tensors()).hasSize(arch.get("tensor_count").asInt());
            for (SourceTensor t : ws.tensors().values()) dtypes.add(t.dtype().name());
            assertThat(ws.get("lm_head.weight") != null).as("has an lm_head.weight tensor")
                    .isEqualTo(arch.get("has_lm_head_tensor").asBoolean());
        }
        Set<String> expectTypes = new TreeSet<>();
        for (JsonNode d : arch.get("stored_dtypes")) {
            expectTypes.add(switch (d.asText()) {
                case "float32" -> "F32";
                case "float16" -> "F16";
                default -> d.asText().toUpperCase(Locale.ROOT).replace("BFLOAT16", "BF16");
            });
        }
        assertThat(dtypes).isEqualTo(expectTypes);

        java.util.Map<String, String> before = TestFiles.snapshot(dir);
        Path compact = tmp.resolve(name + ".gguf"), expanded = tmp.resolve(name + "-x.gguf");
        Converter.convert(dir, compact, ConvertOptions.defaults().withType(OutputType.F32));
        Converter.convert(dir, expanded, ConvertOptions.defaults().withType(OutputType.F32).withExpandLayerSharing(true));
        TestFiles.assertSameSnapshot(before, dir);
        int stored = arch.get("stored_blocks").asInt();
        int repeat = arch.get("block_repeat").asInt();
        try (GgufReader c = GgufReader.open(compact); GgufReader x = GgufReader.open(expanded)) {
            String a = repeat > 1 ? "mobilellm" : "llama";
            assertThat(c.getString("general.architecture")).isEqualTo(a);
            assertThat(c.getLong(a + ".block_count", -1)).isEqualTo(stored);
            assertThat(c.getLong("mobilellm.block_repeat", 1)).isEqualTo(repeat);
            assertThat(c.getLong(a + ".embedding_length", -1)).isEqualTo(arch.get("dim").asLong());
            assertThat(c.getLong(a + ".attention.head_count", -1)).isEqualTo(arch.get("n_head").asLong());
            assertThat(c.getLong(a + ".attention.head_count_kv", -1)).isEqualTo(arch.get("n_kv").asLong());
            assertThat(c.getLong(a + ".feed_forward_length", -1)).isEqualTo(arch.get("ffn").asLong());
            assertThat(c.get("tokenizer.ggml.tokens").asList().size()).isEqualTo(arch.get("vocab").asInt());
            assertThat(c.tensor("output.weight"))
                    .as("these checkpoints share the embedding (lm_head, if any, is equal)").isNull();
            assertThat(c.tensors()).hasSize(2 + 9 * stored);
            JsonNode applied = arch.get("applied_blocks");
            assertThat(x.getString("general.architecture")).isEqualTo("llama");
            assertThat(x.getLong("llama.block_count", -1)).isEqualTo(applied.size());
            for (int i = 0; i < applied.size(); i++) {
                for (String t : new String[] {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "attn_norm", "ffn_norm"}) {
                    String cn = "blk." + applied.get(i).asInt() + "." + t + ".weight";
                    MemorySegment copy = x.tensorData(x.tensor("blk." + i + "." + t + ".weight"));
                    assertThat(c.tensorData(c.tensor(cn)).mismatch(copy))
                            .as("%s: first differing byte", cn).isEqualTo(-1);
                }
            }
            Path st = dir.resolve("model.safetensors");
            assertThat(Files.exists(st)).as("%s is one model.safetensors file", name)
                    .isEqualTo(SINGLE_SAFETENSORS.contains(name));
            if (SINGLE_SAFETENSORS.contains(name)) {
                // independent minimal safetensors parse of the embedding row 5 and norm weights
                float[] emb = readRow(st, "model.embed_tokens.weight", 5);
                assertThat(ConverterTest.row(c, "token_embd.weight", 5)).isEqualTo(emb);
                assertThat(ConverterTest.row(c, "output_norm.weight", 0))
                        .isEqualTo(readRow(st, "model.norm.weight", 0));
            }
        }
    }

    /** Row r of a 2-D (or the 1-D) tensor, decoded from the file with Jackson + ByteBuffer only. */
    static float[] readRow(Path file, String tensor, int r) throws Exception {
        byte[] b = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonNode h = new ObjectMapper().readTree(new String(b, 8, n, StandardCharsets.UTF_8)).get(tensor);
        JsonNode shape = h.get("shape");
        int cols = shape.get(shape.size() - 1).asInt();
        String dt = h.get("dtype").asText();
        int es = dt.equals("F32") ? 4 : 2;
        long base = 8 + n + h.get("data_offsets").get(0).asLong() + (long) r * cols * es;
        float[] out = new float[cols];
        for (int i = 0; i < cols; i++) {
            int p = (int) (base + (long) i * es);
            out[i] = switch (dt) {
                case "F32" -> bb.getFloat(p);
                case "F16" -> Float.float16ToFloat(bb.getShort(p));
                default -> Float.intBitsToFloat((bb.getShort(p) & 0xffff) << 16);
            };
        }
        return out;
    }

}
