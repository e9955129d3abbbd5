package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mobilellm4j.eval.Perplexity;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Accuracy of quantized files on the transformers reference checkpoints (eval.py perplexity on the held-out
 * text): Q8_0 within 1% of F32 (the project's bar for Q8_0; measured -0.4% to +0.5%); Q4_0 is reported and
 * must stay within 5% (measured +1.4% to +1.8%; 4-bit blocks on 96/128-wide models lose more than on real
 * MobileLLM widths, so this bound is looser). The K-quant mixes q4_k_m, q5_k_m and q6_k are measured on the same
 * checkpoints (where their rows fall back to Q5_0 / Q5_1 / Q8_0) and on the width-256 {@link WideCheckpoint}.
 */
class QuantizedAccuracyTest {
    @ParameterizedTest
    @ValueSource(strings = {"mobilellm-bin-bf16", "mobilellm-ls-f16", "llama-sharded-bf16-lmhead", "llama-f32"})
    void q8PerplexityWithinOnePercentOfF32(String name) throws Exception {
        JsonNode ref = TestFiles.json(TestFiles.testdata("reference/" + name + ".json")).get("perplexity");
        String text = Files.readString(TestFiles.repoRoot().resolve(ref.get("text").asText()));
        int ctx = ref.get("ctx").asInt();
        double f32 = ppl(name, "f32", text, ctx);
        double q8 = ppl(name, "q8_0", text, ctx);
        double q4 = ppl(name, "q4_0", text, ctx);
        System.out.printf("perplexity %s: f32 %.4f q8_0 %.4f (%+.3f%%) q4_0 %.4f (%+.2f%%)%n", name, f32, q8,
                100 * (q8 / f32 - 1), q4, 100 * (q4 / f32 - 1));
        assertThat(q8).as("%s: q8_0 perplexity vs f32", name).isCloseTo(f32, within(0.01 * f32));
        assertThat(q4).as("%s: q4_0 perplexity vs f32", name).isCloseTo(f32, within(0.05 * f32));
    }

    /**
     * The K-quant mixes (docs/k-quants.md) on the reference checkpoints. These are 128 wide (96 for -LS) with ffn
     * 352 (256): rows of 128, 96 and 352 cannot hold 256-element super-blocks and fall back (Q4_K -> Q5_0, Q5_K ->
     * Q5_1, Q6_K -> Q8_0), so here q6_k is Q8_0 throughout, q4_k_m / q5_k_m are Q5_0 / Q5_1 with Q8_0 for the
     * output and some attn_v / ffn_down; only -LS's ffn_down (rows of 256) holds K-quants. Real K-quant figures
     * come from {@link #kQuantPerplexityOnTheWidth256Model}. Bounds: q6_k is Q8_0 here, so Q8_0's 1%; q4_k_m and
     * q5_k_m get Q4_0's 5%: their 5-bit blocks have half Q4_0's step, but on these tiny, overfitted models
     * held-out perplexity moves by a few percent either way with any weight noise (measured -0.9% to +2.8%;
     * the -LS model, each block applied twice, is the most sensitive: pure q5_0 there gives +5.9%).
     */
    @ParameterizedTest
    @ValueSource(strings = {"mobilellm-bin-bf16", "mobilellm-ls-f16", "llama-sharded-bf16-lmhead", "llama-f32"})
    void kQuantMixPerplexityOnTheReferenceCheckpoints(String name) throws Exception {
        JsonNode ref = TestFiles.json(TestFiles.testdata("reference/" + name + ".json")).get("perplexity");
        String text = Files.readString(TestFiles.repoRoot().resolve(ref.get("text").asText()));
        int ctx = ref.get("ctx").asInt();
        double f32 = ppl(name, "f32", text, ctx);
        double q4 = ppl(name, "q4_0", text, ctx);
        double k4 = ppl(name, "q4_k_m", text, ctx), k5 = ppl(name, "q5_k_m", text, ctx), k6 = ppl(name, "q6_k", text, ctx);
        System.out.printf("perplexity %s (K-quants falling back): f32 %.4f q4_k_m %.4f (%+.2f%%) q5_k_m %.4f (%+.2f%%) q6_k %.4f (%+.3f%%); q4_0 %+.2f%%%n",
                name, f32, k4, 100 * (k4 / f32 - 1), k5, 100 * (k5 / f32 - 1), k6, 100 * (k6 / f32 - 1), 100 * (q4 / f32 - 1));
        assertThat(k6).as("%s: q6_k perplexity vs f32", name).isCloseTo(f32, within(0.01 * f32));
        assertThat(k5).as("%s: q5_k_m perplexity vs f32", name).isCloseTo(f32, within(0.05 * f32));
        assertThat(k4).as("%s: q4_k_m perplexity vs f32", name).isCloseTo(f32, within(0.05 * f32));
    }

    /**
     * K-quants proper, on {@link WideCheckpoint} (llama-f32 rewritten at width 256, the same function: its F32
     * perplexity equals llama-f32's up to float rounding, 1e-4 relative). All its matrices but ffn_down hold
     * K-quant blocks. Perplexity bounds as for the other types: q6_k (Q6_K's step, max / 32 per 16, is about 4
     * times Q8_0's yet far below the noise of these models) gets Q8_0's 1%, q5_k_m 2%, q4_k_m Q4_0's 5%.
     * Perplexity on this overfitted model moves by a percent or two either way by chance, so the quantizers are
     * compared by the mean KL divergence of the next-token distributions from F32's, over the same windows:
     * it grows with the weight error, so q6_k < q5_k_m < q4_k_m must hold, and our engine also runs llama.cpp's
     * files of the same mixes (LlamaCppKQuantTest). llama.cpp searches its scales, we do not (docs/k-quants.md),
     * so ours may be somewhat worse; it must stay within 1.25 times llama.cpp's KL (KL grows with the square of
     * the weight error: 12% more RMS error; measured 1.04 to 1.08 times; all numbers are printed).
     */
    @org.junit.jupiter.api.Test
    void kQuantPerplexityOnTheWidth256Model() throws Exception {
        JsonNode ref = TestFiles.json(TestFiles.testdata("reference/llama-f32.json")).get("perplexity");
        String text = Files.readString(TestFiles.repoRoot().resolve(ref.get("text").asText()));
        int ctx = ref.get("ctx").asInt();
        double narrow = ppl("llama-f32", "f32", text, ctx);
        java.nio.file.Path f32File = WideCheckpoint.gguf("f32");
        double f32 = ppl(f32File, text, ctx);
        System.out.printf("perplexity %s: f32 %.4f (llama-f32 f32 %.4f)%n", WideCheckpoint.NAME, f32, narrow);
        assertThat(f32).as("the widened model computes the same function").isCloseTo(narrow, within(1e-4 * narrow));
        double[] bound = {0.05, 0.02, 0.01};
        String[] mixes = {"q4_k_m", "q5_k_m", "q6_k"};
        double[] klOurs = new double[3];
        for (int i = 0; i < mixes.length; i++) {
            java.nio.file.Path oursFile = WideCheckpoint.gguf(mixes[i]), theirsFile = LlamaCppKQuantTest.llamaCppFile(mixes[i]);
            double ours = ppl(oursFile, text, ctx), theirs = ppl(theirsFile, text, ctx);
            klOurs[i] = meanKl(f32File, oursFile, text, ctx);
            double klTheirs = meanKl(f32File, theirsFile, text, ctx);
            System.out.printf("perplexity %s %s: ours %.4f (%+.3f%%), llama.cpp's file %.4f (%+.3f%%); KL from f32: ours %.5f,"
                    + " llama.cpp's %.5f%n", WideCheckpoint.NAME, mixes[i], ours, 100 * (ours / f32 - 1), theirs,
                    100 * (theirs / f32 - 1), klOurs[i], klTheirs);
            assertThat(ours).as("%s: our file's perplexity vs f32", mixes[i]).isCloseTo(f32, within(bound[i] * f32));
            assertThat(theirs).as("%s: llama.cpp's file's perplexity vs f32", mixes[i])
                    .isCloseTo(f32, within(bound[i] * f32));
            assertThat(klOurs[i]).as("%s: KL ours vs 1.25 times llama.cpp's %s", mixes[i], klTheirs)
                    .isLessThanOrEqualTo(1.25 * klTheirs);
        }
        assertThat(klOurs[2]).as("KL q6_k < q5_k_m: %s", Arrays.toString(klOurs)).isLessThan(klOurs[1]);
        assertThat(klOurs[1]).as("KL q5_k_m < q4_k_m: %s", Arrays.toString(klOurs)).isLessThan(klOurs[0]);
    }

    /**
     * Mean KL(F32 || quantized) of the next-token distributions over eval.py's windows (one BOS, the text
     * tokenised once, windows of ctx, positions 0..ctx-2 of each window predicting 1..ctx-1).
     */
    private static double meanKl(java.nio.file.Path reference, java.nio.file.Path quantized, String text, int ctx) {
        try (Model a = Model.load(reference, ModelOptions.builder().threads(2).build());
                Model b = Model.load(quantized, ModelOptions.builder().threads(2).build());
                Session sa = a.newSession(); Session sb = b.newSession()) {
            int[] body = a.tokenizer().encode(text, false, false);
            int[] all = new int[body.length + 1];
            all[0] = a.info().vocabulary().bosToken();
            System.arraycopy(body, 0, all, 1, body.length);
            double sum = 0;
            long n = 0;
            for (int w = 0; w + ctx <= all.length; w += ctx) {
                int[] window = Arrays.copyOfRange(all, w, w + ctx);
                sa.reset();
                sb.reset();
                Logits la = sa.evalAll(window), lb = sb.evalAll(window);
                for (int r = 0; r < ctx - 1; r++) {
                    double[] p = logSoftmax(la.toArray(r)), q = logSoftmax(lb.toArray(r));
                    for (int i = 0; i < p.length; i++) sum += Math.exp(p[i]) * (p[i] - q[i]);
                    n++;
                }
            }
            return sum / n;
        }
    }

    private static double[] logSoftmax(float[] l) {
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (float v : l) max = Math.max(max, v);
        for (float v : l) z += Math.exp(v - max);
        double lz = max + Math.log(z);
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) out[i] = l[i] - lz;
        return out;
    }

    private static double ppl(String name, String type, String text, int ctx) {
        return ppl(TestFiles.checkpoint(name, type), text, ctx);
    }

    private static double ppl(java.nio.file.Path file, String text, int ctx) {
        try (Model m = Model.load(file, ModelOptions.builder().threads(2).build())) {
            return Perplexity.compute(m, text, ctx, Perplexity.Method.MOBILELLM, KvCacheType.F32, null).perplexity();
        }
    }
}
