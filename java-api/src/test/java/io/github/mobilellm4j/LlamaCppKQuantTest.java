package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.convert.GgmlType;
import io.github.mobilellm4j.convert.RowQuantizer;
import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import io.github.mobilellm4j.convert.gguf.GgufValue;
import io.github.mobilellm4j.convert.gguf.GgufWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * K-quant files written by llama.cpp: llama-quantize's own mixes (Q4_K_M, Q4_K_S, Q5_K_M, Q6_K) of our F32
 * conversion of the width-256 model {@link WideCheckpoint}, and llama-simple's greedy text from each
 * (testdata/llamacpp/reference.json, "k_quant_source" and the "wide256-*" files). Our quantizer differs from
 * llama.cpp's (docs/k-quants.md), so bytes are not compared; instead: the files load and run, their blocks
 * decode to the F32 source (so we read ggml's layouts as llama.cpp writes them), greedy text agrees up to
 * near-ties, and our converter picks the same type for every tensor.
 */
class LlamaCppKQuantTest {
    static final JsonNode REF = TestFiles.json(TestFiles.testdata("llamacpp/reference.json"));
    static final JsonNode SRC = REF.get("k_quant_source");
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static JsonNode entry(String mix) {
        return REF.get("files").get("wide256-" + mix);
    }

    static Path llamaCppFile(String mix) {
        return TestFiles.repoRoot().resolve(entry(mix).get("file").asText());
    }

    /** SHA-256 over every tensor's data bytes in file order: what llama-quantize read (metadata aside). */
    static String tensorDigest(Path gguf) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (GgufReader r = GgufReader.open(gguf)) {
            for (GgufTensorInfo t : r.tensors()) md.update(r.tensorData(t).asByteBuffer());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String fileDigest(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    /** Our F32 conversion of the wide model must be the very file the llama.cpp files were quantized from. */
    @Test
    void sourceIsTheFileLlamaCppQuantized() throws Exception {
        assertThat(tensorDigest(WideCheckpoint.gguf("f32")))
                .as("tensor data of our F32 conversion of %s changed: regenerate the llama.cpp files",
                        WideCheckpoint.NAME)
                .isEqualTo(SRC.get("tensor_data_sha256").asText());
    }

    /** (a) Each file is the committed one, loads, reports its tensor types as the header has them, and runs. */
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q4_k_s", "q5_k_m", "q6_k"})
    void llamaCppKQuantFilesLoad(String mix) throws Exception {
        Path file = llamaCppFile(mix);
        assertThat(fileDigest(file)).as(file + " changed").isEqualTo(entry(mix).get("sha256").asText());
        Map<String, String> header = new TreeMap<>();
        try (GgufReader r = GgufReader.open(file)) {
            for (GgufTensorInfo t : r.tensors()) header.put(t.name(), t.type().lowerName());
        }
        assertThat(header.values()).as("%s has K-quant tensors", mix).anyMatch(t -> t.endsWith("_k"));
        try (Model m = Model.load(file, ModelOptions.builder().threads(2).build()); Session s = m.newSession()) {
            Map<String, String> engine = new TreeMap<>();
            for (TensorInfo t : m.tensors()) engine.put(t.name(), t.type().toLowerCase());
            assertThat(engine).as("%s: tensor types as the engine reports them", mix)
                    .containsExactlyInAnyOrderEntriesOf(header);
            float[] l = s.eval(m.tokenizer().encode(REF.get("prompt").asText())).toArray(0);
            for (int i = 0; i < l.length; i++) assertThat(l[i]).as("%s: logit %d", mix, i).isFinite();
        }
    }

    /**
     * (b) The layout check, independent of our quantizer: every quantized tensor of llama.cpp's file, decoded
     * by our engine (mllm_dequantize_row), is close to the F32 source tensor. The scale is the grid step a
     * plain quantizer of the type would have on each block (Q4_K/Q5_K: (max - min(lo, 0)) / nmax per 32,
     * Q6_K: max|x| / 32 per 16, Q5_0: max|x| / 16, Q5_1: (max - min) / 31, Q8_0: max|x| / 127 per 32);
     * rounding to a grid of step D costs RMS D / sqrt(12). llama.cpp searches its scales, so its error is at
     * most about that, plus the rounding of sub-block scales and mins to 6 bits (a few percent); the bound is
     * 1.25 times it (measured ratios, printed: 0.88 to 0.99). A block decoded with a wrong layout puts
     * values in the wrong places or with the wrong scale: errors of the order of the values themselves, 10 to
     * 50 times the bound. The Java RowQuantizer decodes the same values (a second, independent decoder).
     */
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q4_k_s", "q5_k_m", "q6_k"})
    void llamaCppBlocksDecodeToTheF32Source(String mix) throws Exception {
        Native.ensureLoaded();
        int kTensors = 0;
        try (GgufReader q = GgufReader.open(llamaCppFile(mix)); GgufReader f = GgufReader.open(WideCheckpoint.gguf("f32"));
                Arena arena = Arena.ofConfined()) {
            for (GgufTensorInfo t : q.tensors()) {
                if (!t.type().isQuantized()) continue;
                GgufTensorInfo src = f.tensor(t.name());
                assertThat(src.type()).as(t.name()).isEqualTo(GgmlType.F32);
                assertThat(t.ne()).as(t.name()).isEqualTo(src.ne());
                int n = (int) t.ne()[0];
                long rowBytes = t.type().rowBytes(n);
                MemorySegment data = q.tensorData(t), ref = f.tensorData(src);
                MemorySegment out = arena.allocate(4L * n);
                float[] x = new float[n], viaJava = new float[n];
                double se = 0, ss = 0, step2 = 0, javaDiff = 0, amax = 0;
                long blocks = 0;
                int sub = subBlock(t.type());
                for (long r = 0; r < t.rows(); r++) {
                    Native.check(mllm_dequantize_row(t.type().id, data.asSlice(r * rowBytes, rowBytes), out, n), "dequantize");
                    RowQuantizer.dequantizeRow(t.type(), data, r * rowBytes, viaJava, 0, n);
                    for (int i = 0; i < n; i++) x[i] = ref.get(LE_FLOAT, 4 * (r * n + i));
                    for (int i = 0; i < n; i++) {
                        float y = out.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                        se += (y - (double) x[i]) * (y - (double) x[i]);
                        ss += (double) x[i] * x[i];
                        javaDiff = Math.max(javaDiff, Math.abs(y - viaJava[i]));
                        amax = Math.max(amax, Math.abs(y));
                    }
                    for (int o = 0; o < n; o += sub, blocks++) {
                        double st = step(t.type(), x, o, sub);
                        step2 += st * st;
                    }
                }
                double rms = Math.sqrt(se / ((double) n * t.rows()));
                double expect = Math.sqrt(step2 / blocks / 12);
                System.out.printf("llama.cpp %s %-24s %-5s relative rms error %.4f, rms / grid rounding error %.3f%n",
                        mix, t.name(), t.type().lowerName(), rms / Math.sqrt(ss / ((double) n * t.rows())), rms / expect);
                assertThat(rms).as("%s %s (%s): rms error vs grid rounding error %s", mix, t.name(), t.type(), expect)
                        .isLessThanOrEqualTo(1.25 * expect);
                // both decoders compute d * sc * q - dmin * m in float; allow a few ulps for a different order
                assertThat(javaDiff).as("%s: largest difference of the Java and engine decoders", t.name())
                        .isLessThanOrEqualTo(1e-6 * amax);
                if (t.type() == GgmlType.Q4_K || t.type() == GgmlType.Q5_K || t.type() == GgmlType.Q6_K) kTensors++;
            }
        }
        assertThat(kTensors).as("%s: K-quant tensors checked", mix).isGreaterThanOrEqualTo(20);
    }

    private static int subBlock(GgmlType t) {
        return t == GgmlType.Q6_K ? 16 : 32;
    }

    /** The grid step of a plain (min/max) quantizer of type t on x[o, o+n). */
    private static double step(GgmlType t, float[] x, int o, int n) {
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE, amax = 0;
        for (int i = o; i < o + n; i++) {
            lo = Math.min(lo, x[i]);
            hi = Math.max(hi, x[i]);
            amax = Math.max(amax, Math.abs(x[i]));
        }
        return switch (t) {
            case Q4_K -> (hi - Math.min(lo, 0)) / 15;
            case Q5_K -> (hi - Math.min(lo, 0)) / 31;
            case Q6_K -> amax / 32;
            case Q4_0 -> amax / 8;
            case Q5_0 -> amax / 16;
            case Q4_1 -> (hi - lo) / 15;
            case Q5_1 -> (hi - lo) / 31;
            case Q8_0 -> amax / 127;
            default -> throw new IllegalArgumentException("no grid for " + t);
        };
    }

    /**
     * (c) Greedy continuation in our engine vs llama-simple's on the same file. The weights are identical, but
     * the two engines round activations differently before the integer dot products: llama.cpp to Q8_K (one
     * float scale per 256 values), ours to Q8_0 / Q8_1 (an fp16 scale per 32). Where two candidates are nearly
     * tied the choice can flip, so the texts must agree up to the first step where they differ, and there
     * llama.cpp's token must have been within TIE of our best: our top logit minus the best logit among the
     * tokens that continue llama.cpp's text. A flip needs our gap to be below the sum of the two engines' gap
     * errors against float activations. Ours, e, is measured ({@link #activationNoise}: 0.26 to 0.40 here, as on
     * Q8_0 files; logits reach 25).
     * llama.cpp's step is set by the largest of 256 values instead of 32, typically 1.3 to 2 times ours for
     * bell-shaped activations, so its gap error is taken as up to 2e: TIE = 3e (at least 0.01; summation
     * order alone moves logits by about 1e-5). A wrong kernel or layout moves logits by whole units and
     * parts the texts within a few tokens, far outside this.
     */
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q4_k_s", "q5_k_m", "q6_k"})
    void greedyTextMatchesLlamaSimpleUpToNearTies(String mix) throws Exception {
        String want = entry(mix).get("continuation").asText();
        byte[] wantBytes = want.getBytes(StandardCharsets.UTF_8);
        double noise = activationNoise(mix);
        double tie = Math.max(0.01, 3 * noise);
        try (Model m = Model.load(llamaCppFile(mix), ModelOptions.builder().threads(2).build()); Session s = m.newSession()) {
            Tokenizer tok = m.tokenizer();
            int[] prompt = tok.encode(SRC.get("prompt").asText());
            assertThat(prompt[0]).as("llama-simple adds BOS").isEqualTo(m.info().vocabulary().bosToken());
            List<Integer> ids = new ArrayList<>();
            for (int id : prompt) ids.add(id);
            float[] logits = s.eval(prompt).toArray(0);
            int n = SRC.get("n_predict").asInt();
            double minGap = Double.MAX_VALUE;
            for (int step = 0; step < n; step++) {
                int best = argmax(logits);
                minGap = Math.min(minGap, logits[best] - secondLargest(logits, best));
                byte[] cur = continuation(tok, prompt, ids, best);
                if (!isPrefix(cur, wantBytes)) {
                    // llama.cpp's token here is one that extends the agreed text along llama.cpp's text
                    int agreed = continuation(tok, prompt, ids.stream().mapToInt(Integer::intValue).toArray()).length;
                    double alt = Double.NEGATIVE_INFINITY;
                    int altId = -1;
                    for (int t = 0; t < logits.length; t++) {
                        if (logits[t] <= alt) continue;
                        byte[] c = continuation(tok, prompt, ids, t);
                        if (c.length > agreed && (isPrefix(c, wantBytes) || isPrefix(wantBytes, c))) {
                            alt = logits[t];
                            altId = t;
                        }
                    }
                    double gap = logits[best] - alt;
                    System.out.printf("llama.cpp %s: texts part at step %d: ours %s, llama.cpp's %s, logit gap %.4f (tie tolerance %.4f)%n",
                            mix, step, tok.piece(best), altId < 0 ? "?" : tok.piece(altId), gap, tie);
                    String where = mix + ": at step " + step + ", ours " + new String(cur, StandardCharsets.UTF_8)
                            + " vs " + want;
                    assertThat(altId).as("%s: a token that continues llama.cpp's text", where).isNotNegative();
                    assertThat(gap).as("%s: logit gap of llama.cpp's token to ours", where).isLessThan(tie);
                    return;
                }
                ids.add(best);
                if (best == tok.eos()) break;
                logits = s.eval(best).toArray(0);
            }
            int[] all = ids.stream().mapToInt(Integer::intValue).toArray();
            assertThat(new String(continuation(tok, prompt, all), StandardCharsets.UTF_8)).as("%s: greedy text", mix)
                    .isEqualTo(want);
            System.out.printf("llama.cpp %s: greedy text identical (%d tokens; smallest top-2 gap %.4f, tie tolerance %.4f)%n",
                    mix, n, minGap, tie);
        }
    }

    private static byte[] continuation(Tokenizer tok, int[] prompt, List<Integer> ids, int next) {
        int[] all = new int[ids.size() + 1];
        for (int i = 0; i < ids.size(); i++) all[i] = ids.get(i);
        all[ids.size()] = next;
        return continuation(tok, prompt, all);
    }

    /** The generated text's bytes: the decode of everything minus the decode of the prompt. */
    private static byte[] continuation(Tokenizer tok, int[] prompt, int[] all) {
        byte[] p = tok.decodeBytes(prompt), a = tok.decodeBytes(all);
        assertThat(Arrays.copyOf(a, p.length)).as("decode extends the prompt's decode").isEqualTo(p);
        return Arrays.copyOfRange(a, p.length, a.length);
    }

    private static boolean isPrefix(byte[] a, byte[] of) {
        return a.length <= of.length && Arrays.mismatch(a, Arrays.copyOf(of, a.length)) < 0;
    }

    private static float secondLargest(float[] l, int best) {
        float v = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < l.length; i++) if (i != best && l[i] > v) v = l[i];
        return v;
    }

    private static int argmax(float[] l) {
        int best = 0;
        for (int i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
        return best;
    }

    /**
     * How far our activation rounding moves the gaps between the leading logits: our engine on llama.cpp's file
     * and on its F32 twin (the same weights, decoded to float, so only the activation rounding differs), over
     * the prompt followed by llama.cpp's continuation; per position, the gap from the top logit (of the twin)
     * to each of the next 7, the largest change.
     */
    static double activationNoise(String mix) throws Exception {
        final int TOP = 8;
        Path twin = TestFiles.outDir().resolve("llamacpp-wide256-" + mix + "-dequantized-f32.gguf");
        writeDequantized(llamaCppFile(mix), twin);
        try (Model q = Model.load(llamaCppFile(mix), ModelOptions.builder().threads(2).build());
                Model f = Model.load(twin, ModelOptions.builder().threads(2).build());
                Session sq = q.newSession(); Session sf = f.newSession()) {
            int[] ids = q.tokenizer().encode(SRC.get("prompt").asText() + entry(mix).get("continuation").asText());
            Logits a = sq.evalAll(ids), b = sf.evalAll(ids);
            double worst = 0, worstAll = 0;
            for (int r = 0; r < ids.length; r++) {
                float[] x = a.toArray(r), y = b.toArray(r);
                Integer[] order = new Integer[y.length];
                for (int i = 0; i < y.length; i++) order[i] = i;
                Arrays.sort(order, (i, j) -> Float.compare(y[j], y[i]));
                int top = order[0];
                for (int k = 1; k < TOP; k++) {
                    int t = order[k];
                    worst = Math.max(worst, Math.abs((x[top] - x[t]) - (y[top] - y[t])));
                }
                for (int i = 0; i < x.length; i++) worstAll = Math.max(worstAll, Math.abs(x[i] - y[i]));
            }
            System.out.printf("llama.cpp %s: our logits vs float activations over %d positions: top-1 gaps to the next %d"
                    + " move by at most %.4f; logits by at most %.4f%n", mix, ids.length, TOP - 1, worst, worstAll);
            return worst;
        }
    }

    /** A copy of a GGUF file with every tensor decoded to F32 (metadata kept). */
    static void writeDequantized(Path in, Path out) throws Exception {
        try (GgufReader r = GgufReader.open(in)) {
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : r.metadata().entrySet()) w.put(e.getKey(), e.getValue());
            w.put("general.file_type", GgufValue.u32(0));
            for (GgufTensorInfo t : r.tensors()) {
                int n = (int) t.ne()[0];
                long rowBytes = t.type().rowBytes(n);
                w.addTensor(t.name(), GgmlType.F32, t.ne(), sink -> {
                    float[] row = new float[n];
                    MemorySegment data = r.tensorData(t);
                    for (long k = 0; k < t.rows(); k++) {
                        RowQuantizer.dequantizeRow(t.type(), data, k * rowBytes, row, 0, n);
                        for (float v : row) sink.f32(v);
                    }
                });
            }
            w.write(out, true, List.of(), null);
        }
    }

    /**
     * (d) Our converter's mixes pick, tensor by tensor, the types llama-quantize picked (docs/k-quants.md
     * follows its rules, fallbacks included), and the same general.file_type.
     */
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q4_k_s", "q5_k_m", "q6_k"})
    void ourConverterPicksLlamaCppsTypes(String mix) throws Exception {
        Map<String, String> theirs = new LinkedHashMap<>(), ours = new LinkedHashMap<>();
        long theirFileType, ourFileType;
        try (GgufReader r = GgufReader.open(llamaCppFile(mix))) {
            for (GgufTensorInfo t : r.tensors()) theirs.put(t.name(), t.type().lowerName());
            theirFileType = r.getLong("general.file_type", -1);
        }
        try (GgufReader r = GgufReader.open(WideCheckpoint.gguf(mix))) {
            for (GgufTensorInfo t : r.tensors()) ours.put(t.name(), t.type().lowerName());
            ourFileType = r.getLong("general.file_type", -1);
        }
        assertThat(ours)
                .as("%s: tensor types, ours vs llama-quantize's", mix).containsExactlyInAnyOrderEntriesOf(theirs);
        assertThat(ourFileType).as("%s: general.file_type", mix).isEqualTo(theirFileType);
        Map<String, Integer> counts = new TreeMap<>();
        for (String t : ours.values()) counts.merge(t, 1, Integer::sum);
        System.out.println("llama.cpp " + mix + ": same types as ours " + counts);
    }
}
