package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.hub.HubOptions;
import io.github.mobilellm4j.hub.HubRef;
import io.github.mobilellm4j.hub.HubModels;
import io.github.mobilellm4j.hub.PulledModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** pull: a model from the Hugging Face hub into the caches; prints the GGUF file's path. */
final class PullCommand implements Command {
    @Override
    public String name() {
        return "pull";
    }

    @Override
    public String summary() {
        return "download a model from the Hugging Face hub (and convert it to GGUF)";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm pull OWNER/NAME[:TYPE] [--revision R] [--type T] [--token T] [--json]
                Downloads a repository's checkpoint into the Hugging Face cache and converts it to GGUF (into
                ~/.cache/mobilellm4j/models), or, for a repository of GGUF files, downloads the file of the type.
                Prints the GGUF file's path; files already in the caches are not downloaded again.
                  --revision R    branch, tag or commit (default main)
                  --type T        q8_0 (default), q4_0, q4_k_m, f16, ... (as convert --type); for a repository
                                  of GGUF files, the type in the file names (OWNER/NAME:TYPE says the same)
                  --token T       access token for gated and private repositories (default: HF_TOKEN, else
                                  the token file that hf auth login writes)
                  --json          print {"repo", "commit", "type", "path", "converted"}
                Environment: HF_ENDPOINT (the hub), HF_TOKEN, HF_HOME or HF_HUB_CACHE (the download cache),
                HF_HUB_OFFLINE=1 (only the caches), HF_HUB_DOWNLOAD_TIMEOUT (seconds without data before a
                download is resumed), MOBILELLM_CACHE_DIR (the converted models' cache is its models folder).
                """;
    }

    @Override
    public List<Option> options() {
        return List.of(Option.valued("--revision"), Option.valued("--type"), Option.valued("--token"), Option.flag("--json"));
    }

    @Override
    public int maxPositional() {
        return 1;
    }

    @Override
    public int run(Args a, Streams io) {
        if (a.positional().size() != 1) throw new UsageException("give one repository (OWNER/NAME, e.g. facebook/MobileLLM-125M)");
        HubRef ref;
        try {
            ref = HubRef.parse(a.positional().get(0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        HubOptions.Builder b = hubOptions(io);
        try {
            if (a.has("--revision")) b.revision(a.get("--revision"));
            if (a.has("--type")) b.type(a.get("--type"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (a.has("--token")) b.token(a.get("--token"));
        HubOptions options = b.build();
        if (ref.tag() != null && options.type() != null && !ref.tag().equals(options.type())) {
            throw new UsageException(a.typed("--type") + " " + options.type() + " differs from the type in " + ref);
        }
        PulledModel m = pull(ref, options, io);
        if (a.has("--json")) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("repo", m.repo().toString());
            o.put("commit", m.commit());
            o.put("type", m.type());
            o.put("path", m.path().toString());
            o.put("converted", m.converted());
            io.out().println(Json.write(o));
        } else {
            io.out().println(m.path());
        }
        return 0;
    }

    /** Hub settings from the environment, progress on standard error. */
    static HubOptions.Builder hubOptions(Streams io) {
        try {
            return HubOptions.builder(io.env()).progress(io.err(), io.errIsTerminal());
        } catch (IllegalArgumentException e) { // a malformed HF_ENDPOINT or HF_HUB_DOWNLOAD_TIMEOUT
            throw new UsageException(e.getMessage());
        }
    }

    /** Pulls, saying on standard error which model is fetched. */
    static PulledModel pull(HubRef ref, HubOptions options, Streams io) {
        io.err().println("mobilellm: " + ref + (options.offline() ? " from the cache" : " from " + options.endpoint()));
        PulledModel m = HubModels.pull(ref, options);
        io.err().println("mobilellm: " + m.repo() + " at " + m.commit() + ": " + m.path());
        return m;
    }
}
