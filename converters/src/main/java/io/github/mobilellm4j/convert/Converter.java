package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.gguf.GgufValue;
import io.github.mobilellm4j.convert.gguf.GgufValueType;
import io.github.mobilellm4j.convert.gguf.GgufWriter;
import io.github.mobilellm4j.convert.hf.HfConfig;
import io.github.mobilellm4j.convert.hf.SourceTensor;
import io.github.mobilellm4j.convert.hf.TokenizerLoader;
import io.github.mobilellm4j.convert.hf.Vocabulary;
import io.github.mobilellm4j.convert.hf.WeightSet;
import io.github.mobilellm4j.convert.safetensors.SafetensorsReader;
import io.github.mobilellm4j.convert.torch.TorchCheckpointReader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongUnaryOperator;

/**
 * Converts a Hugging Face MobileLLM (or Llama) checkpoint folder into a GGUF file following
 * docs/gguf-conventions.md. Inputs are memory-mapped and processed one tensor (one row) at a time.
 */
public final class Converter {
    private Converter() {}

    private static final List<String> INPUT_NAMES = List.of("config.json", "tokenizer.model", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "generation_config.json",
            "chat_template.jinja", "chat_template.json", "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
            "pytorch_model.bin.index.json");

    /**
     * The names of the files a checkpoint folder may hold that {@link #convert} reads, besides the shards an index
     * names (config, tokenizer, chat template and weights files).
     */
    public static List<String> inputNames() {
        return INPUT_NAMES;
    }

    /** One GGUF tensor to produce. */
    private record Plan(String name, SourceTensor src, GgmlType type, long[] ne, int permuteHeadDim) {}

    public static void convert(Path hfDir, Path outGguf, ConvertOptions opts) throws ConversionException {
        ProgressListener pl = opts.listener();
        if (!Files.isDirectory(hfDir)) throw new ConversionException(hfDir, "not a folder");
        Path cfgFile = hfDir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) throw new ConversionException(hfDir, "no config.json in the folder");
        // the files read (shards are added once the index is read); a GGUF left in the folder by an
        // earlier run is not an input and may be replaced with force
        List<Path> inputs = new ArrayList<>();
        for (String n : INPUT_NAMES) {
            Path p = hfDir.resolve(n);
            if (Files.exists(p)) inputs.add(p);
        }
        AtomicOutput.checkTarget(outGguf, opts.force(), inputs);
        HfConfig cfg = HfConfig.read(cfgFile);
        try (WeightSet ws = openWeights(hfDir)) {
            GgufWriter w = new GgufWriter();
            // every tensor's shape is checked against the config before the vocabulary is sized from it
            long params = plan(cfg, ws, opts, w, pl);
            Vocabulary vocab = TokenizerLoader.load(hfDir, cfg, pl);
            boolean compactLs = cfg.layerSharing() && !opts.expandLayerSharing();
            String arch = architecture(cfg, compactLs);
            int blocks = cfg.layerSharing() && opts.expandLayerSharing() ? 2 * cfg.numLayers() : cfg.numLayers();
            Map<String, GgufValue> md = new LinkedHashMap<>();
            md.put("general.architecture", GgufValue.string(arch));
            String name = opts.name() != null ? opts.name() : hfDir.toAbsolutePath().normalize().getFileName().toString();
            md.put("general.name", GgufValue.string(name));
            md.put("general.size_label", GgufValue.string(TensorPolicy.sizeLabel(params)));
            md.put("general.file_type", GgufValue.u32(opts.type().fileType));
            md.put("general.quantization_version", GgufValue.u32(2));
            md.put(arch + ".context_length", GgufValue.u32(cfg.maxPositions()));
            md.put(arch + ".embedding_length", GgufValue.u32(cfg.hiddenSize()));
            md.put(arch + ".block_count", GgufValue.u32(blocks));
            md.put(arch + ".feed_forward_length", GgufValue.u32(cfg.intermediateSize()));
            md.put(arch + ".attention.head_count", GgufValue.u32(cfg.numHeads()));
            md.put(arch + ".attention.head_count_kv", GgufValue.u32(cfg.numKvHeads()));
            md.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.f32(cfg.rmsNormEps()));
            md.put(arch + ".rope.freq_base", GgufValue.f32(cfg.ropeTheta()));
            md.put(arch + ".rope.dimension_count", GgufValue.u32(cfg.headDim()));
            md.put(arch + ".vocab_size", GgufValue.u32(cfg.vocabSize()));
            if (compactLs) md.put("mobilellm.block_repeat", GgufValue.u32(2));
            putAttention(md, arch, cfg);
            putVocab(md, vocab);
            md.forEach(w::put);
            inputs.addAll(ws.files());
            w.write(outGguf, opts.force(), inputs, pl);
        }
    }

    /**
     * The GGUF architecture (docs/gguf-conventions.md): llama / mobilellm for the 2024 models; llama4 as
     * llama.cpp writes MobileLLM-R1 (every layer RoPE with QK-norm and full attention), so such files run
     * there too; mobilellm-pro, ours, for every other Llama 4 text form (sliding windows, NoPE layers).
     */
    static String architecture(HfConfig cfg, boolean compactLs) {
        if (cfg.family() == HfConfig.Family.LLAMA) return compactLs ? "mobilellm" : "llama";
        HfConfig.Attention at = cfg.attention();
        return at.allRopeFull() && at.qkNorm() ? "llama4" : "mobilellm-pro";
    }

    /** The per-layer attention keys of the Llama 4 architectures. */
    private static void putAttention(Map<String, GgufValue> md, String arch, HfConfig cfg) {
        HfConfig.Attention at = cfg.attention();
        switch (arch) {
            case "llama4" -> {
                // the keys llama.cpp's converter writes for a dense Llama 4 text model without chunked attention
                md.put("llama4.attention.key_length", GgufValue.u32(cfg.headDim()));
                md.put("llama4.attention.value_length", GgufValue.u32(cfg.headDim()));
                md.put("llama4.expert_count", GgufValue.u32(0));
                md.put("llama4.expert_used_count", GgufValue.u32(0));
                md.put("llama4.expert_feed_forward_length", GgufValue.u32(cfg.intermediateSize()));
                md.put("llama4.interleave_moe_layer_step", GgufValue.u32(0));
                md.put("llama4.attention.sliding_window", GgufValue.u32(0));
            }
            case "mobilellm-pro" -> {
                List<Object> windowed = new ArrayList<>(), rope = new ArrayList<>();
                for (HfConfig.LayerAttention l : at.layers()) {
                    windowed.add(l.window() > 0);
                    rope.add(l.rope());
                }
                md.put(arch + ".attention.sliding_window", GgufValue.u32(at.slidingWindow()));
                md.put(arch + ".attention.sliding_window_pattern", GgufValue.array(GgufValueType.BOOL, windowed));
                md.put(arch + ".rope.layer_pattern", GgufValue.array(GgufValueType.BOOL, rope));
                md.put(arch + ".attention.qk_norm", GgufValue.bool(at.qkNorm()));
                md.put(arch + ".attention.temperature_tuning", GgufValue.bool(at.temperatureTuning()));
                md.put(arch + ".attention.temperature_scale", GgufValue.f32(at.temperatureScale()));
                md.put(arch + ".attention.temperature_floor_scale", GgufValue.u32(at.floorScale()));
            }
            default -> { } // llama, mobilellm: RoPE on every layer, nothing to say
        }
    }

    static void putVocab(Map<String, GgufValue> md, Vocabulary v) {
        Vocabulary.ByteLevel bl = v.byteLevel();
        md.put("tokenizer.ggml.model", GgufValue.string(bl != null ? "gpt2" : "llama"));
        if (bl != null) md.put("tokenizer.ggml.pre", GgufValue.string(bl.pre()));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, v.tokens()));
        List<Object> types = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) types.add(v.types()[i]);
        if (v.scores() != null) {
            List<Object> scores = new ArrayList<>(v.size());
            for (int i = 0; i < v.size(); i++) scores.add(v.scores()[i]);
            md.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        }
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        if (bl != null) {
            md.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, bl.merges()));
            if (bl.ignoreMerges() != null) md.put("tokenizer.ggml.ignore_merges", GgufValue.bool(bl.ignoreMerges()));
        }
        if (v.bosId() >= 0) md.put("tokenizer.ggml.bos_token_id", GgufValue.u32(v.bosId()));
        if (v.eosId() >= 0) md.put("tokenizer.ggml.eos_token_id", GgufValue.u32(v.eosId()));
        if (v.eotId() >= 0) md.put("tokenizer.ggml.eot_token_id", GgufValue.u32(v.eotId()));
        if (v.eomId() >= 0) md.put("tokenizer.ggml.eom_token_id", GgufValue.u32(v.eomId()));
        if (v.unkId() >= 0) md.put("tokenizer.ggml.unknown_token_id", GgufValue.u32(v.unkId()));
        if (v.padId() >= 0) md.put("tokenizer.ggml.padding_token_id", GgufValue.u32(v.padId()));
        md.put("tokenizer.ggml.add_bos_token", GgufValue.bool(v.addBos()));
        md.put("tokenizer.ggml.add_eos_token", GgufValue.bool(v.addEos()));
        if (bl == null) md.put("tokenizer.ggml.add_space_prefix", GgufValue.bool(v.addSpacePrefix()));
        if (v.chatTemplate() != null) md.put("tokenizer.chat_template", GgufValue.string(v.chatTemplate()));
    }

    /** Opens the weights: model.safetensors, its sharded index, pytorch_model.bin or its index. */
    public static WeightSet openWeights(Path dir) throws ConversionException {
        Path st = dir.resolve("model.safetensors");
        Path stIndex = dir.resolve("model.safetensors.index.json");
        Path bin = dir.resolve("pytorch_model.bin");
        Path binIndex = dir.resolve("pytorch_model.bin.index.json");
        if (Files.isRegularFile(st)) return SafetensorsReader.open(st);
        if (Files.isRegularFile(stIndex)) return SafetensorsReader.openIndex(stIndex);
        if (Files.isRegularFile(bin)) return TorchCheckpointReader.open(bin);
        if (Files.isRegularFile(binIndex)) return openTorchIndex(binIndex);
        throw new ConversionException(dir, "no weights found (need model.safetensors, model.safetensors.index.json or pytorch_model.bin)");
    }

    private static WeightSet openTorchIndex(Path index) throws ConversionException {
        Set<String> shards = new java.util.LinkedHashSet<>();
        try {
            var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readAllBytes(index));
            var map = root == null ? null : root.get("weight_map");
            if (map == null || !map.isObject()) throw new ConversionException(index, "missing \"weight_map\" object");
            for (var it = map.fields(); it.hasNext(); ) {
                String f = it.next().getValue().asText();
                if (f.contains("/") || f.contains("\\")) throw new ConversionException(index, "weight_map names a file outside the folder: " + f);
                shards.add(f);
            }
        } catch (java.io.IOException e) {
            throw ConversionException.io(index, "cannot read", e);
        }
        WeightSet ws = new WeightSet(Arena.ofShared());
        try {
            for (String s : shards) TorchCheckpointReader.read(index.toAbsolutePath().getParent().resolve(s), ws);
            return ws;
        } catch (ConversionException | RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    /** Validates the checkpoint against the config and adds every tensor to w. Returns the parameter count. */
    private static long plan(HfConfig c, WeightSet ws, ConvertOptions opts, GgufWriter w, ProgressListener pl) throws ConversionException {
        Path wfile = ws.files().isEmpty() ? c.file() : ws.files().get(0);
        Set<String> used = new HashSet<>();
        int d = c.hiddenSize(), f = c.intermediateSize(), hd = c.headDim();
        int q = c.numHeads() * hd, kv = c.numKvHeads() * hd;
        long params = 0;
        List<Plan> plans = new ArrayList<>();

        SourceTensor emb = need(ws, wfile, "model.embed_tokens.weight", new long[] {c.vocabSize(), d}, c, used);
        plans.add(new Plan("token_embd.weight", emb, null, null, 0));
        params += emb.numel();

        // Llama's q and k rotate the two halves of a head (HF): permuted into the adjacent pairs GGUF rotates;
        // Llama 4 already rotates adjacent pairs (complex numbers)
        int permute = c.family() == HfConfig.Family.LLAMA ? hd : 0;
        String ffn = c.ffnPrefix();
        List<List<Plan>> blocks = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            List<Plan> b = new ArrayList<>();
            b.add(new Plan("attn_norm.weight", need(ws, wfile, p + "input_layernorm.weight", new long[] {d}, c, used), null, null, 0));
            b.add(new Plan("attn_q.weight", need(ws, wfile, p + "self_attn.q_proj.weight", new long[] {q, d}, c, used), null, null, permute));
            b.add(new Plan("attn_k.weight", need(ws, wfile, p + "self_attn.k_proj.weight", new long[] {kv, d}, c, used), null, null, permute));
            b.add(new Plan("attn_v.weight", need(ws, wfile, p + "self_attn.v_proj.weight", new long[] {kv, d}, c, used), null, null, 0));
            b.add(new Plan("attn_output.weight", need(ws, wfile, p + "self_attn.o_proj.weight", new long[] {d, q}, c, used), null, null, 0));
            b.add(new Plan("ffn_norm.weight", need(ws, wfile, p + "post_attention_layernorm.weight", new long[] {d}, c, used), null, null, 0));
            b.add(new Plan("ffn_gate.weight", need(ws, wfile, p + ffn + "gate_proj.weight", new long[] {f, d}, c, used), null, null, 0));
            b.add(new Plan("ffn_up.weight", need(ws, wfile, p + ffn + "up_proj.weight", new long[] {f, d}, c, used), null, null, 0));
            b.add(new Plan("ffn_down.weight", need(ws, wfile, p + ffn + "down_proj.weight", new long[] {d, f}, c, used), null, null, 0));
            for (Plan x : b) params += x.src.numel();
            blocks.add(b);
        }
        int repeat = c.layerSharing() && opts.expandLayerSharing() ? 2 : 1;
        for (int ob = 0; ob < c.numLayers() * repeat; ob++) {
            for (Plan x : blocks.get(ob / repeat)) plans.add(new Plan("blk." + ob + "." + x.name, x.src, null, null, x.permuteHeadDim));
        }
        SourceTensor norm = need(ws, wfile, "model.norm.weight", new long[] {d}, c, used);
        plans.add(new Plan("output_norm.weight", norm, null, null, 0));
        params += norm.numel();

        SourceTensor head = ws.get("lm_head.weight");
        if (c.sharedEmbeddings()) {
            if (head != null) {
                checkShape(head, new long[] {c.vocabSize(), d}, c);
                used.add(head.name());
                if (sameValues(emb, head)) {
                    pl.note("lm_head.weight equals the shared embedding; dropped");
                } else {
                    pl.warn(head.file() + ": config.json shares embeddings but lm_head.weight differs from model.embed_tokens.weight; keeping it as output.weight");
                    plans.add(new Plan("output.weight", head, null, null, 0));
                    params += head.numel();
                }
            }
        } else {
            if (head == null) {
                throw new ConversionException(wfile, "missing tensor lm_head.weight (config.json does not tie or share the embeddings)");
            }
            checkShape(head, new long[] {c.vocabSize(), d}, c);
            used.add(head.name());
            plans.add(new Plan("output.weight", head, null, null, 0));
            params += head.numel();
        }
        for (SourceTensor t : ws.tensors().values()) {
            if (used.contains(t.name())) continue;
            if (t.name().matches("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq")) {
                pl.note("ignoring derived buffer " + t.name());
                continue;
            }
            throw new ConversionException(t.file(), "unexpected tensor " + t.name() + " " + t.shapeString() + " (not part of a model with " + c.numLayers() + " layers)");
        }
        if (c.ropeScaling() != null) {
            // Llama 3 RoPE scaling: the divisor of each inverse frequency, as llama.cpp stores it
            float[] factors = c.ropeScaling().factors(hd, c.ropeTheta());
            w.addTensor("rope_freqs.weight", GgmlType.F32, new long[] {factors.length}, sink -> {
                for (float v : factors) sink.f32(v);
            });
        }
        TensorPolicy policy = TensorPolicy.forFile(opts.type(), opts.pure(), plans.stream().map(Plan::name).toList());
        for (Plan x : plans) {
            long[] ne = reversed(x.src.shape());
            GgmlType type = policy.choose(x.name, ne, pl);
            SourceTensor src = x.src;
            int phd = x.permuteHeadDim;
            w.addTensor(x.name, type, ne, sink -> {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment seg = src.open(a);
                    long rows = ne.length == 1 ? 1 : ne[1];
                    LongUnaryOperator map = phd > 0 ? RowCopier.ropePermutation(phd) : null;
                    RowCopier.copy(sink, seg, src.dtype().ggml, rows, (int) ne[0], type, map);
                }
            });
        }
        return params;
    }

    private static long[] reversed(long[] s) {
        long[] r = new long[s.length];
        for (int i = 0; i < s.length; i++) r[i] = s[s.length - 1 - i];
        return r;
    }

    private static SourceTensor need(WeightSet ws, Path wfile, String name, long[] shape, HfConfig c, Set<String> used) throws ConversionException {
        SourceTensor t = ws.get(name);
        if (t == null) throw new ConversionException(wfile, "missing tensor " + name);
        checkShape(t, shape, c);
        used.add(name);
        return t;
    }

    private static void checkShape(SourceTensor t, long[] shape, HfConfig c) throws ConversionException {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ConversionException(t.file(), "tensor " + t.name() + " has shape " + t.shapeString()
                    + " but " + c.file().getFileName() + " implies " + Arrays.toString(shape));
        }
    }

    /** Compares two tensors' values (exact bytes when dtypes match, else as floats). */
    private static boolean sameValues(SourceTensor a, SourceTensor b) throws ConversionException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = a.open(arena), sb = b.open(arena);
            if (a.dtype() == b.dtype()) return sa.mismatch(sb) == -1;
            int cols = (int) a.shape()[a.shape().length - 1];
            long rows = a.numel() / cols;
            float[] ra = new float[cols], rb = new float[cols];
            for (long r = 0; r < rows; r++) {
                RowQuantizer.dequantizeRow(a.dtype().ggml, sa, r * cols * a.dtype().size, ra, 0, cols);
                RowQuantizer.dequantizeRow(b.dtype().ggml, sb, r * cols * b.dtype().size, rb, 0, cols);
                if (!Arrays.equals(ra, rb)) return false;
            }
            return true;
        }
    }

}
