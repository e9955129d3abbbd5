package io.github.mobilellm4j.hub;

import io.github.mobilellm4j.convert.Converter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which files of a repository make a model: a GGUF file of the type asked for (chosen by name, as llama.cpp's
 * {@code -hf} chooses), or the files the converter reads from a checkpoint.
 */
final class ModelFiles {
    /** Parts of a split GGUF file (the engine loads single files) and vision projectors are no models of ours. */
    private static final Pattern NOT_A_MODEL = Pattern.compile("(?i).*(-\\d{5}-of-\\d{5}\\.gguf|mmproj.*)$");
    private static final Pattern SAFETENSORS = Pattern.compile("model(-\\d+-of-\\d+)?\\.safetensors(\\.index\\.json)?");
    private static final Pattern PYTORCH = Pattern.compile("pytorch_model(-\\d+-of-\\d+)?\\.bin(\\.index\\.json)?");
    /** The types looked for, in order, when none is asked for and a repository holds several GGUF files. */
    private static final List<String> PREFERRED = List.of(HubOptions.DEFAULT_TYPE, "q4_k_m");

    private ModelFiles() {
    }

    /** The single-file GGUF models among paths (top-level files only). */
    static List<String> ggufs(List<String> paths) {
        return paths.stream().filter(p -> !p.contains("/") && p.toLowerCase(Locale.ROOT).endsWith(".gguf"))
                .filter(p -> !NOT_A_MODEL.matcher(p).matches()).sorted().toList();
    }

    /**
     * The GGUF file of type tag (its name holds the tag between separators, e.g. {@code Model.Q4_0.gguf} or
     * {@code model-q4_0.gguf}); without a tag, the only one, else the first of {@link #PREFERRED} present. Null when
     * none fits; throws when several fit a tag equally.
     */
    static String chooseGguf(RepoId repo, List<String> ggufs, String tag) {
        if (ggufs.isEmpty()) return null;
        if (tag == null) {
            if (ggufs.size() == 1) return ggufs.get(0);
            for (String t : PREFERRED) {
                String f = chooseGguf(repo, ggufs, t);
                if (f != null) return f;
            }
            return null;
        }
        Pattern p = Pattern.compile("(?i)(^|.*[._-])" + Pattern.quote(tag) + "([.-].*)?\\.gguf");
        List<String> fits = ggufs.stream().filter(f -> p.matcher(f).matches()).toList();
        if (fits.size() > 1) {
            throw new HubException(repo + " has several GGUF files of type " + tag + ": " + String.join(", ", fits));
        }
        return fits.isEmpty() ? null : fits.get(0);
    }

    /** Whether the repository holds a checkpoint the converter reads (config.json and weights). */
    static boolean convertible(List<String> paths) {
        return paths.contains("config.json") && paths.stream().anyMatch(p -> SAFETENSORS.matcher(p).matches()
                || PYTORCH.matcher(p).matches());
    }

    /**
     * The files to fetch for a conversion: those the converter reads, and the weights of one format (safetensors
     * when present, else PyTorch), shards included.
     */
    static List<String> checkpointFiles(List<String> paths) {
        Pattern weights = paths.stream().anyMatch(p -> SAFETENSORS.matcher(p).matches()) ? SAFETENSORS : PYTORCH;
        List<String> inputs = Converter.inputNames();
        List<String> files = new ArrayList<>();
        for (String p : paths) {
            boolean isWeights = SAFETENSORS.matcher(p).matches() || PYTORCH.matcher(p).matches();
            if (isWeights ? weights.matcher(p).matches() : inputs.contains(p)) files.add(p);
        }
        files.sort(Comparator.naturalOrder());
        return files;
    }
}
