package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The K-quant file policies of docs/k-quants.md, by tensor, and the files they produce. */
class KQuantPolicyTest {
    static final OutputType[] K = {OutputType.Q4_K_M, OutputType.Q4_K_S, OutputType.Q5_K_M, OutputType.Q5_K_S, OutputType.Q6_K};
    /** Width 576 and ffn 1536 as the 125M, fewer layers and a small vocabulary (fast to convert). */
    static final Shape W576 = new Shape("w576", 8, 9, 3, 576, 1536, 300, 128);
    /** Every row a multiple of 256. */
    static final Shape W256 = new Shape("w256", 8, 4, 2, 256, 512, 300, 128);

    @TempDir
    Path tmp;

    /** more_bits(i, n) worked out by hand for the block counts used here. */
    static final Map<Integer, Set<Integer>> MORE_BITS = Map.of(
            8, Set.of(0, 3, 6, 7),                                        // n/8 = 1, 7n/8 = 7
            16, Set.of(0, 1, 4, 7, 10, 13, 14, 15),                       // 2, 14
            30, Set.of(0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 27, 28, 29), // 3, 26
            54, new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41, 44,
                    47, 48, 49, 50, 51, 52, 53)));                         // 6, 47

    @Test
    void moreBitsMatchesTheHandWorkedSets() {
        for (var e : MORE_BITS.entrySet()) {
            int n = e.getKey();
            Set<Integer> got = new TreeSet<>();
            for (int i = 0; i < n; i++) if (KQuantMix.moreBits(i, n)) got.add(i);
            assertThat(got).as("n = " + n).isEqualTo(new TreeSet<>(e.getValue()));
        }
    }

    @Test
    void parseNamesAliasesAndFileTypes() {
        assertThat(OutputType.parse("q4_k")).isEqualTo(OutputType.Q4_K_M);
        assertThat(OutputType.parse("Q4_K_M")).isEqualTo(OutputType.Q4_K_M);
        assertThat(OutputType.parse("q4-k-s")).isEqualTo(OutputType.Q4_K_S);
        assertThat(OutputType.parse("q5_k")).isEqualTo(OutputType.Q5_K_M);
        assertThat(OutputType.parse("q5_k_s")).isEqualTo(OutputType.Q5_K_S);
        assertThat(OutputType.parse("q6_k")).isEqualTo(OutputType.Q6_K);
        assertThat(K).extracting(t -> t.fileType).containsExactly(15, 14, 17, 16, 18);
        assertThatThrownBy(() -> OutputType.parse("q3_k")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("q4_k_m (q4_k)")
                .hasMessageContaining("q6_k");
    }

    /** The tensors of a converted file, names and ne, in the converter's order. */
    static Map<String, long[]> tensors(Shape s, int blocks, boolean output) {
        Map<String, long[]> m = new java.util.LinkedHashMap<>();
        int d = s.dim(), q = s.heads() * s.headDim(), kv = s.kvHeads() * s.headDim();
        m.put("token_embd.weight", new long[] {d, s.vocab()});
        for (int b = 0; b < blocks; b++) {
            String p = "blk." + b + ".";
            m.put(p + "attn_norm.weight", new long[] {d});
            m.put(p + "attn_q.weight", new long[] {d, q});
            m.put(p + "attn_k.weight", new long[] {d, kv});
            m.put(p + "attn_v.weight", new long[] {d, kv});
            m.put(p + "attn_output.weight", new long[] {q, d});
            m.put(p + "ffn_norm.weight", new long[] {d});
            m.put(p + "ffn_gate.weight", new long[] {d, s.ffn()});
            m.put(p + "ffn_up.weight", new long[] {d, s.ffn()});
            m.put(p + "ffn_down.weight", new long[] {s.ffn(), d});
        }
        m.put("output_norm.weight", new long[] {d});
        if (output) m.put("output.weight", new long[] {d, s.vocab()});
        return m;
    }

    /** The table of docs/k-quants.md written out, with the hand-worked more_bits sets. */
    static GgmlType expected(OutputType t, boolean pure, String name, long[] ne, int blocks, boolean hasOutput) {
        if (ne.length == 1) return GgmlType.F32;
        GgmlType want = t.tensorType;
        if (!pure) {
            boolean output = name.equals("output.weight") || (name.equals("token_embd.weight") && !hasOutput);
            int i = name.startsWith("blk.") ? Integer.parseInt(name.split("\\.")[1]) : -1;
            boolean v = name.endsWith(".attn_v.weight"), down = name.endsWith(".ffn_down.weight");
            boolean more = i >= 0 && MORE_BITS.get(blocks).contains(i);
            GgmlType q4 = GgmlType.Q4_K, q5 = GgmlType.Q5_K, q6 = GgmlType.Q6_K;
            want = switch (t) {
                case Q4_K_M -> output ? q6 : (v || down) && more ? q6 : q4;
                case Q4_K_S -> output ? q6 : v && i < 4 ? q5 : down && i < blocks / 8 ? q5 : q4;
                case Q5_K_M -> output ? q6 : (v || down) && more ? q6 : q5;
                case Q5_K_S -> output ? q6 : q5;
                default -> q6;
            };
        }
        if (ne[0] % 256 == 0) return want;
        return switch (want) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            default -> GgmlType.Q8_0;
        };
    }

    private static void checkPolicy(Shape s, int blocks, boolean hasOutput) {
        Map<String, long[]> ts = tensors(s, blocks, hasOutput);
        for (OutputType t : K) {
            for (boolean pure : new boolean[] {false, true}) {
                TensorPolicy p = TensorPolicy.forFile(t, pure, new ArrayList<>(ts.keySet()));
                for (var e : ts.entrySet()) {
                    assertThat(p.choose(e.getKey(), e.getValue(), null))
                            .as("%s %s%s %s", s.name(), t.lowerName(), pure ? " pure" : "", e.getKey())
                            .isEqualTo(expected(t, pure, e.getKey(), e.getValue(), blocks, hasOutput));
                }
            }
        }
    }

    @Test
    void policyOfThe125M() {
        checkPolicy(Shape.M125, 30, false);
        checkPolicy(Shape.M125, 30, true);
        // spelled out for q4_k_m: width 576 rows fall back, ffn_down rows of 1536 do not
        Map<String, long[]> ts = tensors(Shape.M125, 30, false);
        TensorPolicy p = TensorPolicy.forFile(OutputType.Q4_K_M, false, new ArrayList<>(ts.keySet()));
        Map<String, GgmlType> want = Map.of(
                "token_embd.weight", GgmlType.Q8_0,      // the shared output: Q6_K -> Q8_0
                "blk.0.attn_v.weight", GgmlType.Q8_0,    // more bits: Q6_K -> Q8_0
                "blk.3.attn_v.weight", GgmlType.Q5_0,    // Q4_K -> Q5_0
                "blk.5.ffn_down.weight", GgmlType.Q6_K,
                "blk.4.ffn_down.weight", GgmlType.Q4_K,
                "blk.29.ffn_down.weight", GgmlType.Q6_K,
                "blk.7.attn_q.weight", GgmlType.Q5_0,
                "blk.7.ffn_norm.weight", GgmlType.F32);
        want.forEach((n, t) -> assertThat(p.choose(n, ts.get(n), null)).as(n).isEqualTo(t));
    }

    @Test
    void policyOfThe1B() {
        checkPolicy(Shape.B1, 54, false);
        checkPolicy(Shape.B1, 54, true);
        Map<String, long[]> ts = tensors(Shape.B1, 54, true);
        TensorPolicy p = TensorPolicy.forFile(OutputType.Q4_K_S, false, new ArrayList<>(ts.keySet()));
        assertThat(p.choose("token_embd.weight", ts.get("token_embd.weight"), null)).isEqualTo(GgmlType.Q4_K);
        assertThat(p.choose("output.weight", ts.get("output.weight"), null)).isEqualTo(GgmlType.Q6_K);
        assertThat(p.choose("blk.3.attn_v.weight", ts.get("blk.3.attn_v.weight"), null)).isEqualTo(GgmlType.Q5_K);
        assertThat(p.choose("blk.4.attn_v.weight", ts.get("blk.4.attn_v.weight"), null)).isEqualTo(GgmlType.Q4_K);
        assertThat(p.choose("blk.5.ffn_down.weight", ts.get("blk.5.ffn_down.weight"), null)).isEqualTo(GgmlType.Q5_K);
        assertThat(p.choose("blk.6.ffn_down.weight", ts.get("blk.6.ffn_down.weight"), null)).isEqualTo(GgmlType.Q4_K);
    }

    @Test
    void fallbackNotes() {
        ConverterTest.Rec rec = new ConverterTest.Rec();
        assertThat(TensorPolicy.choose("blk.0.attn_q.weight", new long[] {576, 576}, OutputType.Q5_K_S, false, rec))
                .isEqualTo(GgmlType.Q5_1);
        // a row that fits neither the K-quant nor its fallback ends in F16
        assertThat(TensorPolicy.choose("blk.0.attn_q.weight", new long[] {80, 576}, OutputType.Q6_K, false, rec))
                .isEqualTo(GgmlType.F16);
        assertThat(rec.notes).containsExactly(
                "blk.0.attn_q.weight: row length 576 is not a multiple of 256, using q5_1 instead of q5_k",
                "blk.0.attn_q.weight: row length 80 is not a multiple of 256, using q8_0 instead of q6_k",
                "blk.0.attn_q.weight: row length 80 is not a multiple of 32, using f16 instead of q8_0");
    }

    // ---- converted files ----

    /**
     * Relative RMS error a tensor of this type may have against the f32 conversion (N(0, 0.02) weights). Each
     * bound sits above the grid rounding error of the type on Gaussian blocks (step / sqrt(12), the step being
     * the block's range over the type's levels): roughly 0.08 for 4 bits, 0.04 for 5 bits, 0.017 for Q6_K and
     * 0.005 for Q8_0, relative to the weights' RMS.
     */
    private static double tolerance(GgmlType t) {
        return switch (t) {
            case Q4_K, Q4_0, Q5_0 -> 0.1;
            case Q5_K, Q5_1 -> 0.05;
            case Q6_K -> 0.025;
            case Q8_0 -> 0.01;
            default -> 0;
        };
    }

    /**
     * Parses the file, checks tensor order, types against {@link #expected}, sizes, offsets, and
     * that each 2-D tensor's values are close to the f32 conversion (same permutation, same rows).
     */
    private static void checkFile(Path file, Path f32, OutputType t, boolean pure, Shape s, int blocks, boolean hasOutput) throws Exception {
        Map<String, long[]> ts = tensors(s, blocks, hasOutput);
        try (GgufReader r = GgufReader.open(file); GgufReader ref = GgufReader.open(f32)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(t.fileType);
            assertThat(r.tensors()).extracting(GgufTensorInfo::name).containsExactlyElementsOf(ts.keySet());
            long end = 0;
            for (GgufTensorInfo ti : r.tensors()) {
                String what = file.getFileName() + " " + ti.name();
                assertThat(ti.ne()).as(what).isEqualTo(ts.get(ti.name()));
                assertThat(ti.type()).as(what).isEqualTo(expected(t, pure, ti.name(), ti.ne(), blocks, hasOutput));
                assertThat(ti.byteSize()).as(what).isEqualTo(ti.rows() * ti.type().rowBytes(ti.ne()[0]));
                assertThat(r.tensorData(ti).byteSize()).as(what).isEqualTo(ti.byteSize());
                assertThat(ti.offset() % 32).as("%s: offset modulo the alignment", what).isZero();
                end = Math.max(end, ti.offset() + ti.byteSize());
                if (ti.ne().length == 2) {
                    double rel = relativeError(r, ref, ti);
                    assertThat(rel).as("%s: relative rms", what).isLessThan(tolerance(ti.type()));
                }
            }
            assertThat(r.dataOffset() + end).isLessThanOrEqualTo(Files.size(file));
        }
    }

    private static double relativeError(GgufReader r, GgufReader ref, GgufTensorInfo ti) {
        GgufTensorInfo rt = ref.tensor(ti.name());
        int cols = (int) ti.ne()[0];
        float[] a = new float[cols], b = new float[cols];
        double se = 0, ss = 0;
        MemorySegment da = r.tensorData(ti), db = ref.tensorData(rt);
        for (long row = 0; row < ti.rows(); row++) {
            RowQuantizer.dequantizeRow(ti.type(), da, row * ti.type().rowBytes(cols), a, 0, cols);
            RowQuantizer.dequantizeRow(GgmlType.F32, db, row * 4L * cols, b, 0, cols);
            for (int i = 0; i < cols; i++) {
                se += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
                ss += (double) b[i] * b[i];
            }
        }
        return Math.sqrt(se / ss);
    }

    private Path convert(Path dir, String name, OutputType t, boolean pure, boolean expand) throws ConversionException {
        Path out = tmp.resolve(name);
        Converter.convert(dir, out, ConvertOptions.defaults().withType(t).withPure(pure).withExpandLayerSharing(expand));
        return out;
    }

    @Test
    void convertsA576WideCheckpointWithEveryPolicy() throws Exception {
        Path dir = tmp.resolve("w576");
        SyntheticCheckpoint.write(W576, false, dir, 3);
        Path f32 = convert(dir, "f32.gguf", OutputType.F32, false, false);
        for (OutputType t : K) checkFile(convert(dir, t.lowerName() + ".gguf", t, false, false), f32, t, false, W576, 8, false);
        checkFile(convert(dir, "q4_k_m-pure.gguf", OutputType.Q4_K_M, true, false), f32, OutputType.Q4_K_M, true, W576, 8, false);
    }

    @Test
    void convertsThe125MShape() throws Exception {
        Path dir = tmp.resolve("s125");
        SyntheticCheckpoint.write(Shape.preset("125M"), false, dir, 1);
        Path out = convert(dir, "125m-q4_k_m.gguf", OutputType.Q4_K_M, false, false);
        checkTypesAndSizes(out, OutputType.Q4_K_M, Shape.M125, 30, false);
        try (GgufReader r = GgufReader.open(out)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(15);
            assertThat(r.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(r.tensor("blk.29.ffn_down.weight").type()).isEqualTo(GgmlType.Q6_K);
            assertThat(r.tensor("blk.4.attn_v.weight").type()).isEqualTo(GgmlType.Q5_0);
        }
    }

    @Test
    void convertsA256WideCheckpointCompactAndExpanded() throws Exception {
        Path dir = tmp.resolve("w256");
        SyntheticCheckpoint.write(W256, true, dir, 4);
        Path f32 = convert(dir, "f32.gguf", OutputType.F32, false, false);
        Path f32x = convert(dir, "f32x.gguf", OutputType.F32, false, true);
        for (OutputType t : K) {
            // compact -LS file: the counters run over the 8 stored blocks
            Path c = convert(dir, t.lowerName() + ".gguf", t, false, false);
            checkFile(c, f32, t, false, W256, 8, false);
            try (GgufReader r = GgufReader.open(c)) {
                assertThat(r.getLong("mobilellm.block_repeat", -1)).isEqualTo(2);
            }
            checkFile(convert(dir, t.lowerName() + "-pure.gguf", t, true, false), f32, t, true, W256, 8, false);
        }
        // expanded: 16 blocks, so the more_bits pattern of n = 16
        checkFile(convert(dir, "q4_k_m-x.gguf", OutputType.Q4_K_M, false, true), f32x, OutputType.Q4_K_M, false, W256, 16, false);
        checkFile(convert(dir, "q5_k_m-x.gguf", OutputType.Q5_K_M, false, true), f32x, OutputType.Q5_K_M, false, W256, 16, false);
    }

    @Test
    void untiedOutputHead() throws Exception {
        Path dir = tmp.resolve("untied").resolve("m");
        Files.createDirectories(dir);
        Map<String, Object> llama = new HashMap<>();
        llama.put("architectures", List.of("LlamaForCausalLM"));
        llama.put("model_type", "llama");
        llama.put("share_embedding", null);
        llama.put("tie_word_embeddings", false);
        TestFiles.config(dir, W256, llama);
        Files.write(dir.resolve("tokenizer.model"), SyntheticCheckpoint.syntheticTokenizer(W256.vocab()).toBytes());
        List<TestFiles.Raw> src = new ArrayList<>(TestFiles.modelTensors(W256));
        src.add(TestFiles.bf16("lm_head.weight", new long[] {300, 256}, TestFiles.values(300 * 256, 77)));
        TestFiles.safetensors(dir.resolve("model.safetensors"), src);
        Path f32 = convert(dir, "u-f32.gguf", OutputType.F32, false, false);
        for (OutputType t : K) {
            Path out = convert(dir, "u-" + t.lowerName() + ".gguf", t, false, false);
            try (GgufReader r = GgufReader.open(out)) {
                assertThat(r.tensor("output.weight")).isNotNull();
                assertThat(r.tensor("output.weight").type()).isEqualTo(GgmlType.Q6_K);
                assertThat(r.tensor("token_embd.weight").type())
                        .isEqualTo(t == OutputType.Q6_K ? GgmlType.Q6_K : t.tensorType);
            }
            checkTypesAndSizes(out, t, W256, 8, true);
        }
        assertThat(Files.size(f32)).isPositive();
    }

    private static void checkTypesAndSizes(Path file, OutputType t, Shape s, int blocks, boolean hasOutput) throws Exception {
        Map<String, long[]> ts = tensors(s, blocks, hasOutput);
        try (GgufReader r = GgufReader.open(file)) {
            assertThat(r.tensors()).extracting(GgufTensorInfo::name).containsExactlyElementsOf(ts.keySet());
            for (GgufTensorInfo ti : r.tensors()) {
                assertThat(ti.type())
                        .as(ti.name()).isEqualTo(expected(t, false, ti.name(), ti.ne(), blocks, hasOutput));
                assertThat(ti.byteSize()).as(ti.name()).isEqualTo(ti.rows() * ti.type().rowBytes(ti.ne()[0]));
            }
        }
    }

    @Test
    void quantizeAppliesThePolicyToFloatTensorsAndCopiesQuantizedOnes() throws Exception {
        Path dir = tmp.resolve("q576");
        SyntheticCheckpoint.write(W576, false, dir, 9);
        Path f32 = convert(dir, "f32.gguf", OutputType.F32, false, false);
        for (OutputType t : new OutputType[] {OutputType.Q4_K_M, OutputType.Q6_K}) {
            Path direct = convert(dir, "direct-" + t.lowerName() + ".gguf", t, false, false);
            Path re = tmp.resolve("re-" + t.lowerName() + ".gguf");
            Quantizer.quantize(f32, re, t, false, null);
            // bf16 -> f32 is exact, so re-quantizing the f32 file gives the direct conversion's tensors
            try (GgufReader a = GgufReader.open(direct); GgufReader b = GgufReader.open(re)) {
                assertThat(b.getLong("general.file_type", -1)).isEqualTo(t.fileType);
                for (GgufTensorInfo ti : a.tensors()) {
                    GgufTensorInfo tb = b.tensor(ti.name());
                    assertThat(tb.type()).as(ti.name()).isEqualTo(ti.type());
                    assertThat(a.tensorData(ti).mismatch(b.tensorData(tb))).as(ti.name()).isEqualTo(-1);
                }
            }
        }
        // a q8_0 file: its quantized tensors are copied, the norms stay F32
        Path q8 = convert(dir, "q8.gguf", OutputType.Q8_0, false, false);
        Path re = tmp.resolve("q8-to-q4_k_m.gguf");
        ConverterTest.Rec rec = new ConverterTest.Rec();
        Quantizer.quantize(q8, re, OutputType.Q4_K_M, false, rec);
        try (GgufReader r = GgufReader.open(re); GgufReader src = GgufReader.open(q8)) {
            assertThat(r.getLong("general.file_type", -1)).isEqualTo(15);
            for (GgufTensorInfo ti : r.tensors()) {
                assertThat(ti.type()).as(ti.name()).isEqualTo(src.tensor(ti.name()).type());
                assertThat(r.tensorData(ti).mismatch(src.tensorData(src.tensor(ti.name()))))
                        .as(ti.name()).isEqualTo(-1);
            }
        }
        assertThat(rec.notes).contains("blk.0.attn_v.weight: already q8_0, copied unchanged");
        assertThat(rec.notes).filteredOn(n -> n.endsWith("copied unchanged")).hasSize(8 * 7 + 1);
    }
}
