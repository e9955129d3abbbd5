package io.github.mobilellm4j.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.convert.hf.DType;
import io.github.mobilellm4j.convert.safetensors.SafetensorsWriter;
import io.github.mobilellm4j.convert.sentencepiece.SentencePieceModel;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Writes a synthetic Hugging Face MobileLLM checkpoint folder for tests and benchmarks:
 * config.json (hub style), model.safetensors (bf16, weights ~ N(0, 0.02) from a seeded
 * generator, norm weights 1.0) and tokenizer.model (a synthetic SentencePiece BPE model:
 * &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, 256 byte pieces &lt;0xNN&gt;, then generated pieces with decreasing
 * scores). Streaming, bounded memory; deterministic for a given seed.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {}

    public static void write(Shape shape, boolean layerSharing, Path dir, long seed) throws ConversionException {
        write(shape, layerSharing, dir, seed, false);
    }

    /** As {@link #write(Shape, boolean, Path, long)}; force allows replacing existing files. */
    public static void write(Shape shape, boolean layerSharing, Path dir, long seed, boolean force) throws ConversionException {
        if (shape.vocab() < 259 + 27) throw new ConversionException(dir, "vocabulary " + shape.vocab() + " too small for a synthetic tokenizer (need >= 286)");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw ConversionException.io(dir, "cannot create folder", e);
        }
        Path cfg = dir.resolve("config.json"), st = dir.resolve("model.safetensors"), tok = dir.resolve("tokenizer.model");
        for (Path p : List.of(cfg, st, tok)) AtomicOutput.checkTarget(p, force, List.of());
        writeConfig(shape, layerSharing, cfg, force);
        writeTokenizer(shape.vocab(), tok, force);
        writeWeights(shape, seed, st, force);
    }

    private static void writeConfig(Shape s, boolean ls, Path out, boolean force) throws ConversionException {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = om.createObjectNode();
        n.putArray("architectures").add("MobileLLMForCausalLM");
        n.put("model_type", "mobilellm");
        n.put("hidden_size", s.dim());
        n.put("intermediate_size", s.ffn());
        n.put("num_hidden_layers", s.layers());
        n.put("num_attention_heads", s.heads());
        n.put("num_key_value_heads", s.kvHeads());
        n.put("hidden_act", "silu");
        n.put("rms_norm_eps", 1e-5);
        n.put("rope_theta", 10000.0);
        n.put("max_position_embeddings", s.context());
        n.put("vocab_size", s.vocab());
        n.put("bos_token_id", 1);
        n.put("eos_token_id", 2);
        n.put("pad_token_id", 0);
        n.put("share_embedding", true);
        n.put("layer_sharing", ls);
        n.put("tie_word_embeddings", false);
        n.put("torch_dtype", "bfloat16");
        try {
            writeSmall(out, om.writeValueAsBytes(n), force);
        } catch (IOException e) {
            throw ConversionException.io(out, "cannot write", e);
        }
    }

    /** The synthetic SentencePiece model (BPE, byte fallback) of the given size. */
    public static SentencePieceModel syntheticTokenizer(int vocab) {
        List<SentencePieceModel.Piece> pieces = new ArrayList<>(vocab);
        pieces.add(new SentencePieceModel.Piece("<unk>", 0f, SentencePieceModel.UNKNOWN));
        pieces.add(new SentencePieceModel.Piece("<s>", 0f, SentencePieceModel.CONTROL));
        pieces.add(new SentencePieceModel.Piece("</s>", 0f, SentencePieceModel.CONTROL));
        for (int b = 0; b < 256; b++) {
            pieces.add(new SentencePieceModel.Piece(String.format("<0x%02X>", b), 0f, SentencePieceModel.BYTE));
        }
        String letters = "etaoinshrdlucmfwypvbgkjqxz";
        String singles = "\u2581" + letters + letters.toUpperCase() + "0123456789.,!?'\"-:;()";
        int normal = vocab - pieces.size();
        int nSingles = Math.min(singles.length(), normal);
        int nMulti = normal - nSingles;
        LinkedHashSet<String> multi = new LinkedHashSet<>();
        // "▁x", then words of 2, 3, ... letters, each with and without the "▁" prefix
        for (int i = 0; i < letters.length() && multi.size() < nMulti; i++) multi.add("\u2581" + letters.charAt(i));
        for (int len = 2; multi.size() < nMulti; len++) {
            int[] idx = new int[len];
            outer:
            while (multi.size() < nMulti) {
                StringBuilder w = new StringBuilder();
                for (int k : idx) w.append(letters.charAt(k));
                multi.add("\u2581" + w);
                if (multi.size() < nMulti) multi.add(w.toString());
                for (int p = len - 1; p >= 0; p--) {
                    if (++idx[p] < letters.length()) continue outer;
                    idx[p] = 0;
                }
                break;
            }
        }
        int i = 0;
        for (String m : multi) pieces.add(new SentencePieceModel.Piece(m, 0f - i++, SentencePieceModel.NORMAL));
        for (int k = 0; k < nSingles; k++) {
            pieces.add(new SentencePieceModel.Piece(String.valueOf(singles.charAt(k)), 0f - i++, SentencePieceModel.NORMAL));
        }
        SentencePieceModel sp = new SentencePieceModel(pieces);
        sp.modelType = SentencePieceModel.BPE;
        sp.vocabSize = vocab;
        sp.byteFallback = true;
        sp.unkId = 0;
        sp.bosId = 1;
        sp.eosId = 2;
        sp.padId = -1;
        sp.normalizerName = "identity";
        sp.addDummyPrefix = true;
        sp.removeExtraWhitespaces = false;
        return sp;
    }

    private static void writeTokenizer(int vocab, Path out, boolean force) throws ConversionException {
        writeSmall(out, syntheticTokenizer(vocab).toBytes(), force);
    }

    private static void writeSmall(Path out, byte[] bytes, boolean force) throws ConversionException {
        try (AtomicOutput ao = AtomicOutput.create(out, force, List.of())) {
            FileChannel ch = ao.channel();
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(bytes);
            while (bb.hasRemaining()) ch.write(bb);
            ao.commit();
        } catch (IOException e) {
            throw ConversionException.io(out, "cannot write", e);
        }
    }

    private static void writeWeights(Shape s, long seed, Path out, boolean force) throws ConversionException {
        // 65536 sorted N(0, 0.02) samples as bf16: indexing it with uniform 16-bit numbers draws
        // from (a discretisation of) the normal distribution, 4 draws per random long.
        Random r = new Random(seed);
        float[] samples = new float[65536];
        for (int i = 0; i < samples.length; i++) samples[i] = (float) (r.nextGaussian() * 0.02);
        Arrays.sort(samples);
        short[] table = new short[65536];
        for (int i = 0; i < table.length; i++) table[i] = RowQuantizer.floatToBf16(samples[i]);
        SplittableRandom rng = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        int hd = s.headDim();
        SafetensorsWriter w = new SafetensorsWriter(Map.of("format", "pt"));
        w.add("model.embed_tokens.weight", DType.BF16, new long[] {s.vocab(), s.dim()}, random(table, rng, (long) s.vocab() * s.dim()));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            w.add(p + "input_layernorm.weight", DType.BF16, new long[] {s.dim()}, ones(s.dim()));
            w.add(p + "self_attn.q_proj.weight", DType.BF16, new long[] {(long) s.heads() * hd, s.dim()}, random(table, rng, (long) s.heads() * hd * s.dim()));
            w.add(p + "self_attn.k_proj.weight", DType.BF16, new long[] {(long) s.kvHeads() * hd, s.dim()}, random(table, rng, (long) s.kvHeads() * hd * s.dim()));
            w.add(p + "self_attn.v_proj.weight", DType.BF16, new long[] {(long) s.kvHeads() * hd, s.dim()}, random(table, rng, (long) s.kvHeads() * hd * s.dim()));
            w.add(p + "self_attn.o_proj.weight", DType.BF16, new long[] {s.dim(), (long) s.heads() * hd}, random(table, rng, (long) s.heads() * hd * s.dim()));
            w.add(p + "post_attention_layernorm.weight", DType.BF16, new long[] {s.dim()}, ones(s.dim()));
            w.add(p + "mlp.gate_proj.weight", DType.BF16, new long[] {s.ffn(), s.dim()}, random(table, rng, (long) s.ffn() * s.dim()));
            w.add(p + "mlp.up_proj.weight", DType.BF16, new long[] {s.ffn(), s.dim()}, random(table, rng, (long) s.ffn() * s.dim()));
            w.add(p + "mlp.down_proj.weight", DType.BF16, new long[] {s.dim(), s.ffn()}, random(table, rng, (long) s.ffn() * s.dim()));
        }
        w.add("model.norm.weight", DType.BF16, new long[] {s.dim()}, ones(s.dim()));
        w.write(out, force);
    }

    private static SafetensorsWriter.Data ones(int n) {
        return sink -> {
            for (int i = 0; i < n; i++) sink.u16(0x3F80);
        };
    }

    private static SafetensorsWriter.Data random(short[] table, SplittableRandom rng, long n) {
        return sink -> {
            long left = n;
            MemorySegment seg = sink.segment();
            while (left > 0) {
                int chunk = (int) Math.min(left, 1 << 16); // elements, multiple of 4 except the last
                long off = sink.reserve(chunk * 2);
                int i = 0;
                for (; i + 4 <= chunk; i += 4) {
                    long v = rng.nextLong();
                    seg.set(RowQuantizer.LE_SHORT, off + 2L * i, table[(int) (v & 0xffff)]);
                    seg.set(RowQuantizer.LE_SHORT, off + 2L * i + 2, table[(int) ((v >>> 16) & 0xffff)]);
                    seg.set(RowQuantizer.LE_SHORT, off + 2L * i + 4, table[(int) ((v >>> 32) & 0xffff)]);
                    seg.set(RowQuantizer.LE_SHORT, off + 2L * i + 6, table[(int) (v >>> 48)]);
                }
                for (; i < chunk; i++) seg.set(RowQuantizer.LE_SHORT, off + 2L * i, table[rng.nextInt(65536)]);
                left -= chunk;
            }
        };
    }

}
