package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.convert.Shape;
import io.github.mobilellm4j.convert.SyntheticCheckpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/** synth: a random-weight Hugging Face checkpoint of an exact MobileLLM shape (for benchmarks and tests). */
final class SynthCommand implements Command {
    @Override
    public String name() {
        return "synth";
    }

    @Override
    public String summary() {
        return "random-weight checkpoint of an exact MobileLLM shape";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm synth --shape 125M|350M|600M|1B|1.5B [--layer-sharing] -o DIR [--seed S]
                """;
    }

    @Override
    public Set<String> valuedOptions() {
        return Set.of("--shape", "-o", "--output", "--seed");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("--layer-sharing");
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws Exception {
        String shape = a.get("--shape");
        if (shape == null) throw new UsageException("synth: --shape is required (125M, 350M, 600M, 1B or 1.5B)");
        String dir = a.get("-o", "--output");
        if (dir == null) throw new UsageException("synth: an output folder is required (-o DIR)");
        Shape s;
        try {
            s = Shape.preset(shape);
        } catch (IllegalArgumentException e) {
            throw new UsageException("synth: " + e.getMessage());
        }
        SyntheticCheckpoint.write(s, a.has("--layer-sharing"), Path.of(dir), a.longValue("--seed", 1));
        err.println("mobilellm: wrote a " + shape + (a.has("--layer-sharing") ? "-LS" : "") + " checkpoint to " + dir);
        return 0;
    }
}
