package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Backend;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.hub.HubRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Options shared by the commands that load a model. */
final class ModelArgs {
    static final List<Option> OPTIONS = List.of(Option.valued("-m", "--model"), Option.valued("-t", "--threads"),
            Option.valued("--backend"), Option.valued("-c", "--ctx"), Option.flag("--no-mmap"));
    static final String USAGE = """
              -m, --model MODEL    GGUF model file, or a Hugging Face repository OWNER/NAME[:TYPE]
                                   (pulled and converted on first use, as by mobilellm pull)
              -t, --threads N      CPU threads (default: all cores)
              --backend B          cpu (default), vulkan or auto
              -c, --ctx N          context length (default: the model's, at most 4096;
                                   -1 = the model's full training context)
              --no-mmap            read the model into memory instead of mapping the file
            """;

    private ModelArgs() {
    }

    /**
     * -m FILE, -m OWNER/NAME[:TYPE] (a hub repository, when no file of that name exists), or the bundled demo model
     * when allowDemo and no -m is given.
     */
    static Model load(Args a, boolean allowDemo, Streams io) {
        String file = a.get("-m");
        if (file == null) {
            if (!allowDemo) throw new UsageException("a model file is required (-m FILE)");
            io.err().println("mobilellm: no -m given, using the bundled demo model (models/demo/MODEL_CARD.md)");
            return Model.loadDemo(options(a));
        }
        if (HubRef.isHubReference(file)) {
            return load(a, PullCommand.pull(HubRef.parse(file), PullCommand.hubOptions(io).build(), io).path());
        }
        return load(a, Path.of(file));
    }

    /** The model file p with the model options of a. */
    static Model load(Args a, Path p) {
        if (Files.isDirectory(p)) {
            throw new Failure(p + " is a folder; convert a Hugging Face checkpoint first: mobilellm convert "
                    + p + " -o model.gguf --type q8_0");
        }
        if (!Files.exists(p)) throw new Failure("model file not found: " + p);
        return Model.load(p, options(a));
    }

    static ModelOptions options(Args a) {
        ModelOptions.Builder b = ModelOptions.builder();
        a.withInt("-t", b::threads);
        a.withInt("-c", b::contextLength);
        if (a.has("--no-mmap")) b.memoryMap(false);
        // a model and its draft take turns: on one pool, neither's idle workers compete with the other's for cores
        if (a.declares("--draft") && a.has("--draft")) b.sharedThreadPool(true);
        String backend = a.get("--backend");
        if (backend != null) {
            try {
                b.backend(Backend.valueOf(backend.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw a.invalid("--backend", "must be cpu, vulkan or auto");
            }
        }
        return b.build();
    }

    /** Token ids given on the command line must exist in the model's vocabulary. */
    static void checkTokens(Args a, String name, int[] ids, Model model) {
        int vocab = model.info().vocabulary().size();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new UsageException(a.typed(name) + ": token id " + id + " is out of range [0, " + vocab + ")");
            }
        }
    }

    /** The model options plus a command's own. */
    static List<Option> with(Option... more) {
        List<Option> all = new ArrayList<>(OPTIONS);
        all.addAll(List.of(more));
        return List.copyOf(all);
    }
}
