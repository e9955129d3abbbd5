package io.github.mobilellm4j.hub;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import io.github.mobilellm4j.convert.ConsoleProgress;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.ConvertOptions;
import io.github.mobilellm4j.convert.Converter;
import io.github.mobilellm4j.convert.OutputType;
import io.github.mobilellm4j.convert.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Models by name from the Hugging Face hub: {@code HubModels.load("facebook/MobileLLM-125M")} downloads the
 * checkpoint (into the cache shared with huggingface_hub), converts it to GGUF once (into the model cache, keyed by
 * repository, commit and type) and loads it. A repository that holds GGUF files gives the file of the type asked
 * for ({@code owner/name:q4_0}, or {@link HubOptions.Builder#type}) instead, with nothing to convert.
 *
 * <p>Without the hub ({@link HubOptions#offline()}, or when it cannot be reached) the caches answer for the
 * revision's last known commit.
 */
public final class HubModels {
    private HubModels() {
    }

    /** Pulls (see {@link #pull(HubRef, HubOptions)}) and loads the model. */
    public static Model load(String reference, HubOptions hub, ModelOptions model) {
        Objects.requireNonNull(model, "model");
        return Model.load(pull(HubRef.parse(reference), hub).path(), model);
    }

    /** Pulls and loads the model with default options, reading the hub settings from the environment. */
    public static Model load(String reference) {
        return load(reference, HubOptions.defaults(), ModelOptions.defaults());
    }

    /**
     * A model argument as a file: the path itself when it names no hub repository ({@link HubRef#isHubReference}),
     * else the pulled model's file.
     */
    public static Path resolve(String modelArgument, HubOptions hub) {
        Objects.requireNonNull(modelArgument, "modelArgument");
        return HubRef.isHubReference(modelArgument) ? pull(HubRef.parse(modelArgument), hub).path() : Path.of(modelArgument);
    }

    public static PulledModel pull(String reference, HubOptions hub) {
        return pull(HubRef.parse(reference), hub);
    }

    /**
     * Fetches a model: the repository's GGUF file of the type asked for (the reference's tag, else
     * {@link HubOptions#type()}), or its checkpoint converted to that type ({@value HubOptions#DEFAULT_TYPE} when none
     * is asked for). What the caches hold is reused.
     *
     * @throws HubException naming the problem: unknown repository or revision, access refused (gated repositories
     *     need their licence accepted and a token), no file of the type, network or checksum failures
     */
    public static PulledModel pull(HubRef reference, HubOptions hub) {
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(hub, "hub");
        HubRef ref = reference.withDefaultTag(hub.type());
        HubClient client = new HubClient(hub);
        if (hub.offline()) return fromCache(client, ref, "offline (HF_HUB_OFFLINE)");
        RepoInfo info;
        try {
            info = client.repoInfo(ref.repo());
        } catch (HubException e) {
            if (!HubClient.isUnreachable(e) || client.cachedSnapshot(ref.repo()) == null) throw e;
            note(hub, e.getMessage() + "; using the cache");
            return fromCache(client, ref, e.getMessage());
        }
        List<String> paths = info.paths();
        String gguf = ModelFiles.chooseGguf(ref.repo(), ModelFiles.ggufs(paths), ref.tag());
        if (gguf != null) {
            return new PulledModel(ref.repo(), info.commit(), ref.tag(), client.download(info, info.file(gguf).orElseThrow()), false);
        }
        OutputType type = typeToConvert(ref, ModelFiles.ggufs(paths), ModelFiles.convertible(paths));
        Path out = convertedPath(hub, ref.repo(), info.commit(), type);
        if (Files.isRegularFile(out)) return new PulledModel(ref.repo(), info.commit(), type.lowerName(), out, true);
        List<RepoFile> files = ModelFiles.checkpointFiles(paths).stream().map(p -> info.file(p).orElseThrow()).toList();
        Path snapshot = client.download(info, files);
        convert(hub, ref.repo(), snapshot, out, type);
        return new PulledModel(ref.repo(), info.commit(), type.lowerName(), out, true);
    }

    /** The model from the caches alone: the revision's last known commit, its converted file or its snapshot. */
    private static PulledModel fromCache(HubClient client, HubRef ref, String why) {
        HubOptions hub = client.options();
        Path snapshot = client.cachedSnapshot(ref.repo());
        if (snapshot == null) {
            throw new HubException(why + ", and the cache " + hub.hubCache() + " has no copy of " + ref.repo() + " at "
                    + hub.revision());
        }
        String commit = snapshot.getFileName().toString();
        List<String> paths = list(snapshot);
        String gguf = ModelFiles.chooseGguf(ref.repo(), ModelFiles.ggufs(paths), ref.tag());
        if (gguf != null) return new PulledModel(ref.repo(), commit, ref.tag(), snapshot.resolve(gguf), false);
        OutputType type = typeToConvert(ref, ModelFiles.ggufs(paths), ModelFiles.convertible(paths));
        Path out = convertedPath(hub, ref.repo(), commit, type);
        if (!Files.isRegularFile(out)) convert(hub, ref.repo(), snapshot, out, type);
        return new PulledModel(ref.repo(), commit, type.lowerName(), out, true);
    }

    /** The type a checkpoint converts to, or why there is nothing to load. */
    private static OutputType typeToConvert(HubRef ref, List<String> ggufs, boolean convertible) {
        if (!convertible) {
            throw new HubException(ref.repo() + " has " + (ggufs.isEmpty() ? "no GGUF file" : "no GGUF file of type "
                    + (ref.tag() == null ? "q8_0 or q4_k_m (choose one with a type: owner/name:TYPE)" : ref.tag())
                    + " (it has " + String.join(", ", ggufs) + ")") + " and no checkpoint to convert (config.json and weights)");
        }
        String tag = ref.tag() == null ? HubOptions.DEFAULT_TYPE : ref.tag();
        try {
            return OutputType.parse(tag);
        } catch (IllegalArgumentException e) {
            throw new HubException("cannot convert " + ref.repo() + " to type '" + tag + "': " + e.getMessage(), e);
        }
    }

    /** MODEL_CACHE/OWNER--NAME/COMMIT/NAME-TYPE.gguf */
    static Path convertedPath(HubOptions hub, RepoId repo, String commit, OutputType type) {
        return hub.modelCache().resolve(repo.owner() + "--" + repo.name()).resolve(commit)
                .resolve(repo.name() + "-" + type.lowerName() + ".gguf");
    }

    private static void convert(HubOptions hub, RepoId repo, Path snapshot, Path out, OutputType type) {
        ProgressListener progress = hub.progress() == null ? ProgressListener.SILENT
                : new ConsoleProgress(hub.progress(), hub.progressTerminal(), false);
        try {
            Files.createDirectories(out.getParent());
            // force: a pull running in parallel may finish the same file first; both write the same bytes
            Converter.convert(snapshot, out, ConvertOptions.defaults().withType(type).withName(repo.name()).withForce(true)
                    .withListener(progress));
        } catch (ConversionException e) {
            throw new HubException("converting " + repo + " failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new HubException("cannot create " + out.getParent() + ": " + e.getMessage(), e);
        }
    }

    private static List<String> list(Path snapshot) {
        try (Stream<Path> s = Files.list(snapshot)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + snapshot, e);
        }
    }

    private static void note(HubOptions hub, String message) {
        if (hub.progress() != null) hub.progress().println("note: " + message);
    }
}
