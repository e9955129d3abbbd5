package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Backend;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/** Options shared by the commands that load a model. */
final class ModelArgs {
    static final Set<String> VALUED = Set.of("-m", "--model", "--threads", "-t", "--backend", "--ctx", "-c");
    static final String USAGE = """
              -m, --model FILE     GGUF model file
              -t, --threads N      CPU threads (default: all cores)
              --backend B          cpu (default), vulkan or auto
              -c, --ctx N          context length (default: the model's)
            """;

    private ModelArgs() {
    }

    /** -m FILE, or the bundled demo model when allowDemo and no -m is given. */
    static Model load(Args a, boolean allowDemo, PrintStream err) {
        String file = a.get("-m", "--model");
        ModelOptions options = options(a);
        if (file == null) {
            if (!allowDemo) throw new UsageException("a model file is required (-m FILE)");
            err.println("mobilellm: no -m given, using the bundled demo model (models/demo/MODEL_CARD.md)");
            return Model.loadDemo(options);
        }
        Path p = Path.of(file);
        if (!Files.exists(p)) throw new UsageException("model file not found: " + file);
        if (Files.isDirectory(p)) {
            throw new UsageException(file + " is a folder; convert a Hugging Face checkpoint first: mobilellm convert "
                    + file + " -o model.gguf --type q8_0");
        }
        return Model.load(p, options);
    }

    static ModelOptions options(Args a) {
        ModelOptions.Builder b = ModelOptions.builder();
        if (a.has("--threads")) b.threads(a.intValue("--threads", 0));
        if (a.has("-t")) b.threads(a.intValue("-t", 0));
        String backend = a.get("--backend");
        if (backend != null) {
            try {
                b.backend(Backend.valueOf(backend.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new UsageException("unknown backend '" + backend + "' (use cpu, vulkan or auto)");
            }
        }
        if (a.has("--ctx")) b.contextLength(a.intValue("--ctx", 0));
        if (a.has("-c")) b.contextLength(a.intValue("-c", 0));
        return b.build();
    }

    static Set<String> with(String... more) {
        java.util.HashSet<String> s = new java.util.HashSet<>(VALUED);
        s.addAll(Set.of(more));
        return Set.copyOf(s);
    }
}
