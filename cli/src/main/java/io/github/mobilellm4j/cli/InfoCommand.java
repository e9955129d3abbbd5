package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Engine;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelInfo;
import io.github.mobilellm4j.TensorInfo;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** info: metadata, tensors and types of a GGUF model. */
final class InfoCommand implements Command {
    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "metadata, tensors and types of a model";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm info -m FILE [--tensors] [--json]
                  --tensors   list every tensor (always included with --json)
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(Option.flag("--json"), Option.flag("--tensors"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        PrintStream out = io.out();
        try (Model model = ModelArgs.load(a, true, io)) {
            ModelInfo i = model.info();
            List<TensorInfo> tensors = model.tensors();
            Map<String, Integer> typeCounts = new TreeMap<>();
            for (TensorInfo t : tensors) typeCounts.merge(t.type(), 1, Integer::sum);
            if (a.has("--json")) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("file", model.path().toString());
                o.put("info", i);
                o.put("metadata", model.metadata());
                o.put("types", typeCounts);
                List<Map<String, Object>> ts = new ArrayList<>();
                for (TensorInfo t : tensors) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", t.name());
                    m.put("type", t.type());
                    m.put("shape", t.shape());
                    m.put("offset", t.offset());
                    m.put("bytes", t.bytes());
                    ts.add(m);
                }
                o.put("tensors", ts);
                o.put("cpu_level", Engine.cpuLevel());
                out.println(Json.write(o));
                return 0;
            }
            out.println("file:          " + model.path());
            out.println("architecture:  " + i.architecture() + (i.name().isEmpty() ? "" : " (" + i.name() + ")"));
            ModelInfo.Shape sh = i.shape();
            ModelInfo.Attention at = i.attention();
            ModelInfo.Vocabulary vocab = i.vocabulary();
            out.printf("shape:         %d blocks x %d (= %d layers), dim %d, ffn %d, heads %d/%d kv, head dim %d%n",
                    sh.blocks(), sh.blockRepeat(), sh.layers(), sh.embeddingLength(), sh.feedForwardLength(),
                    at.headCount(), at.headCountKv(), at.headDim());
            ModelInfo.Weights w = i.weights();
            out.printf("vocab:         %d (bos %d, eos %d), context %d%n", vocab.size(), vocab.bosToken(),
                    vocab.eosToken(), sh.contextLength());
            out.printf("parameters:    %,d in %,d bytes; types %s%n", w.parameterCount(), w.sizeBytes(), typeCounts);
            out.println("output head:   " + (w.tiedEmbeddings() ? "token_embd (shared embeddings)" : "output.weight"));
            out.println("cpu:           " + Engine.cpuLevel() + " [" + Engine.cpuFeatures() + "]");
            out.println("metadata:");
            model.metadata().forEach((k, v) -> out.println("  " + k + " = " + v));
            if (a.has("--tensors")) {
                out.println("tensors:");
                for (TensorInfo t : tensors) {
                    out.printf("  %-32s %-6s %-20s %,d bytes%n", t.name(), t.type(), t.shape().toString(), t.bytes());
                }
            }
        }
        return 0;
    }
}
