package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.convert.ConsoleProgress;
import io.github.mobilellm4j.convert.Quantizer;
import java.nio.file.Path;
import java.util.List;

/** quantize: requantize a GGUF file (from F32/F16/BF16 tensors). */
final class QuantizeCommand implements Command {
    @Override
    public String name() {
        return "quantize";
    }

    @Override
    public String summary() {
        return "requantize a GGUF file";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm quantize IN.gguf OUT.gguf --type T [--force] [--pure]
                  --type T   f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1,
                             q4_k_m (q4_k), q4_k_s, q5_k_m (q5_k), q5_k_s or q6_k
                  --force    overwrite an existing output file
                  --pure     every matrix in --type (no per-tensor policy)
                """;
    }

    @Override
    public List<Option> options() {
        return List.of(Option.valued("--type"), Option.flag("--force"), Option.flag("--pure"));
    }

    @Override
    public int maxPositional() {
        return 2;
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        if (a.positional().size() != 2) throw new UsageException("give IN.gguf and OUT.gguf");
        if (!a.has("--type")) throw new UsageException("an output type is required (--type T)");
        Quantizer.quantize(Path.of(a.positional().get(0)), Path.of(a.positional().get(1)), Types.parse(a, "--type"),
                a.has("--force"), a.has("--pure"), new ConsoleProgress(io.err(), io.errIsTerminal(), false));
        return 0;
    }
}
