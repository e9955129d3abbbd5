package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.convert.Shape;
import io.github.mobilellm4j.convert.SyntheticCheckpoint;
import java.nio.file.Path;
import java.util.List;

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
                  --seed S   weight seed (default 1: the same checkpoint every time)
                """;
    }

    @Override
    public List<Option> options() {
        return List.of(Option.valued("--shape"), Option.valued("-o", "--output"), Option.valued("-s", "--seed"),
                Option.flag("--layer-sharing"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        String shape = a.get("--shape");
        if (shape == null) throw new UsageException("a shape is required (--shape 125M, 350M, 600M, 1B or 1.5B)");
        String dir = a.get("-o");
        if (dir == null) throw new UsageException("an output folder is required (-o DIR)");
        Shape s;
        try {
            s = Shape.preset(shape);
        } catch (IllegalArgumentException e) {
            throw a.invalid("--shape", "must be 125M, 350M, 600M, 1B or 1.5B");
        }
        SyntheticCheckpoint.write(s, a.has("--layer-sharing"), Path.of(dir), a.longValue("-s", 1));
        io.err().println("mobilellm: wrote a " + shape + (a.has("--layer-sharing") ? "-LS" : "") + " checkpoint to " + dir);
        return 0;
    }
}
