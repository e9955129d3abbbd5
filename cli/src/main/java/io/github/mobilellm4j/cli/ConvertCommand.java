package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.convert.ConsoleProgress;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import java.nio.file.Path;
import java.util.List;

/** convert: a Hugging Face MobileLLM checkpoint folder to GGUF. */
final class ConvertCommand implements Command {
    @Override
    public String name() {
        return "convert";
    }

    @Override
    public String summary() {
        return "Hugging Face checkpoint folder to GGUF";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm convert HF_DIR -o OUT.gguf --type T [--force] [--expand-layer-sharing] [--pure]
                  --type T                  f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m (q4_k),
                                            q4_k_s, q5_k_m (q5_k), q5_k_s or q6_k (default f16)
                  --force                   overwrite an existing output file
                  --expand-layer-sharing    write -LS models as plain llama files with every block duplicated
                  --pure                    every matrix in --type (no per-tensor policy)
                """;
    }

    @Override
    public List<Option> options() {
        return List.of(Option.valued("-o", "--output"), Option.valued("--type"), Option.flag("--force"),
                Option.flag("--expand-layer-sharing"), Option.flag("--pure"));
    }

    @Override
    public int maxPositional() {
        return 1;
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        if (a.positional().size() != 1) throw new UsageException("give one Hugging Face folder (HF_DIR)");
        String output = a.get("-o");
        if (output == null) throw new UsageException("an output file is required (-o OUT.gguf)");
        ConvertOptions options = ConvertOptions.defaults()
                .withType(a.has("--type") ? Types.parse(a, "--type") : OutputType.F16)
                .withForce(a.has("--force"))
                .withExpandLayerSharing(a.has("--expand-layer-sharing"))
                .withPure(a.has("--pure"))
                .withListener(new ConsoleProgress(io.err(), io.errIsTerminal(), false));
        Converter.convert(Path.of(a.positional().get(0)), Path.of(output), options);
        return 0;
    }
}
