package io.github.mobilellm4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * "llama-wide256": testdata/checkpoints/llama-f32 (dim 128, 4 heads of 32, 2 kv heads, ffn 352, 4 layers, tied
 * embedding) rewritten as an equivalent model of width 256 (8 heads of 32, 4 kv heads, same ffn and layers), so
 * that K-quants (256-element super-blocks) apply to every matrix whose rows have the model width, while
 * ffn_down (rows of 352) falls back. Trained weights rather than random ones: the greedy text is the small
 * model's, and perplexity on held-out text means something.
 *
 * <p>The new residual stream is h' = P h with P (256 x 128) = a fixed permutation of [diag(c); diag(s)],
 * c_i = sqrt2 cos t_i, s_i = sqrt2 sin t_i (random t_i), so P^T P = 2 I: the RMS of h' over 256 equals that
 * of h over 128, and RMSNorm commutes with P. Matrices reading the stream get W P^T / 2 with the norm weight
 * duplicated; matrices writing it get P W; the tied output works because P^T diag(u) P is diagonal for this P
 * (the final norm weight is halved). Heads are duplicated: the copies' q and k are scaled by a_p and 1/a_p per
 * RoPE pair (scores unchanged), the copies' v rotated by a random orthogonal R that o_proj undoes. The random
 * factors make rows free of repeated halves, so a wrong block layout cannot go unnoticed in them.
 *
 * <p>Deterministic: java.util.Random, StrictMath and plain float/double arithmetic give the same bytes on
 * every JVM (the llama.cpp files in testdata/llamacpp were quantized from its F32 conversion, by sha256).
 */
final class WideCheckpoint {
    private WideCheckpoint() {
    }

    static final String NAME = "llama-wide256";
    private static final int D = 128, W = 256, HD = 32, FFN = 352;

    /** The checkpoint folder, written once per build under target/test-models. */
    static synchronized Path folder() {
        Path dir = TestFiles.outDir().resolve(NAME + "-hf");
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return dir;
        try {
            write(TestFiles.testdata("checkpoints/llama-f32"), dir);
        } catch (IOException e) {
            throw new IllegalStateException("writing " + dir + " failed: " + e.getMessage(), e);
        }
        return dir;
    }

    /** Our converter's GGUF of the wide model in the given type (cached per build). */
    static Path gguf(String type) {
        return TestFiles.convert(folder(), NAME, type);
    }

    static void write(Path src, Path dir) throws IOException {
        Files.createDirectories(dir);
        JsonNode cfg = TestFiles.json(src.resolve("config.json"));
        if (cfg.get("hidden_size").asInt() != D || cfg.get("num_attention_heads").asInt() != 4
                || cfg.get("num_key_value_heads").asInt() != 2 || cfg.get("intermediate_size").asInt() != FFN) {
            throw new IllegalStateException("unexpected source shape " + cfg);
        }
        int layers = cfg.get("num_hidden_layers").asInt(), vocab = cfg.get("vocab_size").asInt();
        Map<String, float[]> in = readSafetensors(src.resolve("model.safetensors"));

        Random rnd = new Random(20250220);
        double[] c = new double[D], s = new double[D];
        for (int i = 0; i < D; i++) {
            double t = rnd.nextDouble() * 2 * Math.PI;
            c[i] = Math.sqrt(2) * StrictMath.cos(t);
            s[i] = Math.sqrt(2) * StrictMath.sin(t);
        }
        int[] perm = new int[W]; // unpermuted coordinate j (0..127 the c part, 128..255 the s part) -> position
        for (int j = 0; j < W; j++) perm[j] = j;
        for (int j = W - 1; j > 0; j--) {
            int k = rnd.nextInt(j + 1), t = perm[j];
            perm[j] = perm[k];
            perm[k] = t;
        }
        double[] alpha = new double[HD / 2];
        for (int p = 0; p < alpha.length; p++) alpha[p] = StrictMath.exp(rnd.nextDouble() - 0.5);
        double[][] rot = orthogonal(rnd, HD);
        Stream st = new Stream(c, s, perm);

        Map<String, float[]> out = new LinkedHashMap<>();
        Map<String, int[]> shape = new LinkedHashMap<>();
        put(out, shape, "model.embed_tokens.weight", st.writer(in.get("model.embed_tokens.weight"), vocab, D, true), vocab, W);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            put(out, shape, p + "input_layernorm.weight", st.norm(in.get(p + "input_layernorm.weight"), 1), W);
            double[][] q = st.reader(in.get(p + "self_attn.q_proj.weight"), 4 * HD);
            double[][] k = st.reader(in.get(p + "self_attn.k_proj.weight"), 2 * HD);
            double[][] v = st.reader(in.get(p + "self_attn.v_proj.weight"), 2 * HD);
            double[][] q2 = new double[8 * HD][], k2 = new double[4 * HD][], v2 = new double[4 * HD][];
            for (int r = 0; r < 4 * HD; r++) {
                q2[r] = q[r];
                q2[4 * HD + r] = scaled(q[r], alpha[r % (HD / 2)]);
            }
            for (int r = 0; r < 2 * HD; r++) {
                k2[r] = k[r];
                k2[2 * HD + r] = scaled(k[r], 1 / alpha[r % (HD / 2)]);
                v2[r] = v[r];
            }
            for (int g = 0; g < 2; g++) {
                for (int j = 0; j < HD; j++) {
                    double[] row = new double[W];
                    for (int m = 0; m < HD; m++) for (int e = 0; e < W; e++) row[e] += rot[j][m] * v[g * HD + m][e];
                    v2[2 * HD + g * HD + j] = row;
                }
            }
            put(out, shape, p + "self_attn.q_proj.weight", flat(q2), 8 * HD, W);
            put(out, shape, p + "self_attn.k_proj.weight", flat(k2), 4 * HD, W);
            put(out, shape, p + "self_attn.v_proj.weight", flat(v2), 4 * HD, W);
            // o_proj: P Wo on the original heads' columns, the copies' columns through R^T, each half / 2
            float[] wo = st.writer(in.get(p + "self_attn.o_proj.weight"), D, 4 * HD, false);
            float[] o2 = new float[W * 8 * HD];
            for (int r = 0; r < W; r++) {
                for (int col = 0; col < 4 * HD; col++) o2[r * 8 * HD + col] = (float) (wo[r * 4 * HD + col] / 2.0);
                for (int h = 0; h < 4; h++) {
                    for (int j = 0; j < HD; j++) {
                        double a = 0;
                        for (int m = 0; m < HD; m++) a += (double) wo[r * 4 * HD + h * HD + m] * rot[j][m];
                        o2[r * 8 * HD + 4 * HD + h * HD + j] = (float) (a / 2);
                    }
                }
            }
            put(out, shape, p + "self_attn.o_proj.weight", o2, W, 8 * HD);
            put(out, shape, p + "post_attention_layernorm.weight", st.norm(in.get(p + "post_attention_layernorm.weight"), 1), W);
            put(out, shape, p + "mlp.gate_proj.weight", flat(st.reader(in.get(p + "mlp.gate_proj.weight"), FFN)), FFN, W);
            put(out, shape, p + "mlp.up_proj.weight", flat(st.reader(in.get(p + "mlp.up_proj.weight"), FFN)), FFN, W);
            put(out, shape, p + "mlp.down_proj.weight", st.writer(in.get(p + "mlp.down_proj.weight"), D, FFN, false), W, FFN);
        }
        put(out, shape, "model.norm.weight", st.norm(in.get("model.norm.weight"), 0.5), W);
        writeSafetensors(dir.resolve("model.safetensors"), out, shape);

        ObjectNode wide = (ObjectNode) cfg.deepCopy();
        wide.put("hidden_size", W);
        wide.put("num_attention_heads", 8);
        wide.put("num_key_value_heads", 4);
        wide.put("head_dim", HD);
        Files.writeString(dir.resolve("config.json"), TestFiles.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(wide));
        for (String f : new String[] {"tokenizer.model", "tokenizer_config.json", "generation_config.json"}) {
            Files.copy(src.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The map h -> P h and its use on matrices. */
    private record Stream(double[] c, double[] s, int[] perm) {
        /** A matrix reading the stream (rows x 128, row-major) as rows of W P^T / 2 over 256. */
        double[][] reader(float[] w, int rows) {
            double[][] out = new double[rows][W];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < D; i++) {
                    out[r][perm[i]] = w[r * D + i] * c[i] / 2;
                    out[r][perm[D + i]] = w[r * D + i] * s[i] / 2;
                }
            }
            return out;
        }

        /**
         * A matrix writing the stream: P W (128 x cols becomes 256 x cols); transposed = true for the embedding,
         * stored as vocab x 128, whose rows are stream vectors.
         */
        float[] writer(float[] w, int a, int b, boolean transposed) {
            float[] out = new float[2 * a * b];
            if (transposed) { // a = vocab rows, b = 128
                for (int t = 0; t < a; t++) {
                    for (int i = 0; i < D; i++) {
                        out[t * W + perm[i]] = (float) (w[t * D + i] * c[i]);
                        out[t * W + perm[D + i]] = (float) (w[t * D + i] * s[i]);
                    }
                }
            } else { // a = 128 rows, b = cols
                for (int i = 0; i < D; i++) {
                    for (int col = 0; col < b; col++) {
                        out[perm[i] * b + col] = (float) (w[i * b + col] * c[i]);
                        out[perm[D + i] * b + col] = (float) (w[i * b + col] * s[i]);
                    }
                }
            }
            return out;
        }

        /** A norm weight for the wide stream: w duplicated onto both coordinates of each original one, times f. */
        float[] norm(float[] w, double f) {
            float[] out = new float[W];
            for (int i = 0; i < D; i++) {
                out[perm[i]] = (float) (w[i] * f);
                out[perm[D + i]] = (float) (w[i] * f);
            }
            return out;
        }
    }

    private static double[] scaled(double[] row, double f) {
        double[] out = new double[row.length];
        for (int i = 0; i < row.length; i++) out[i] = row[i] * f;
        return out;
    }

    /** A random n x n orthogonal matrix: Gram-Schmidt on Gaussian rows. */
    private static double[][] orthogonal(Random rnd, int n) {
        double[][] m = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) m[i][j] = rnd.nextGaussian();
            for (int pass = 0; pass < 2; pass++) { // twice for orthogonality to rounding level
                for (int k = 0; k < i; k++) {
                    double d = 0;
                    for (int j = 0; j < n; j++) d += m[i][j] * m[k][j];
                    for (int j = 0; j < n; j++) m[i][j] -= d * m[k][j];
                }
            }
            double norm = 0;
            for (int j = 0; j < n; j++) norm += m[i][j] * m[i][j];
            norm = Math.sqrt(norm);
            for (int j = 0; j < n; j++) m[i][j] /= norm;
        }
        return m;
    }

    private static float[] flat(double[][] rows) {
        int cols = rows[0].length;
        float[] out = new float[rows.length * cols];
        for (int r = 0; r < rows.length; r++) for (int j = 0; j < cols; j++) out[r * cols + j] = (float) rows[r][j];
        return out;
    }

    private static void put(Map<String, float[]> out, Map<String, int[]> shapes, String name, float[] data, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != data.length) throw new IllegalStateException(name + ": " + data.length + " values for " + n);
        out.put(name, data);
        shapes.put(name, shape);
    }

    /** All tensors of an F32 safetensors file (8-byte little-endian header length, JSON header, data). */
    static Map<String, float[]> readSafetensors(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int hlen = (int) b.getLong(0);
        JsonNode h = TestFiles.JSON.readTree(new String(b.array(), 8, hlen, StandardCharsets.UTF_8));
        Map<String, float[]> out = new LinkedHashMap<>();
        for (var it = h.properties().iterator(); it.hasNext();) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            if (!e.getValue().get("dtype").asText().equals("F32")) throw new IllegalStateException(e.getKey() + " is not F32");
            long from = e.getValue().get("data_offsets").get(0).asLong(), to = e.getValue().get("data_offsets").get(1).asLong();
            float[] v = new float[(int) ((to - from) / 4)];
            for (int i = 0; i < v.length; i++) v[i] = b.getFloat((int) (8 + hlen + from + 4L * i));
            out.put(e.getKey(), v);
        }
        return out;
    }

    private static void writeSafetensors(Path file, Map<String, float[]> tensors, Map<String, int[]> shapes) throws IOException {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (var e : tensors.entrySet()) {
            if (header.length() > 1) header.append(',');
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[");
            int[] sh = shapes.get(e.getKey());
            for (int i = 0; i < sh.length; i++) header.append(i == 0 ? "" : ",").append(sh[i]);
            header.append("],\"data_offsets\":[").append(offset).append(',').append(offset + 4L * e.getValue().length).append("]}");
            offset += 4L * e.getValue().length;
        }
        header.append('}');
        byte[] hb = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + hb.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(hb.length).put(hb);
        for (float[] v : tensors.values()) for (float x : v) buf.putFloat(x);
        Files.write(file, buf.array());
    }
}
