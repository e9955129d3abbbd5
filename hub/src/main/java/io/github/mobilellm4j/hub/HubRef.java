package io.github.mobilellm4j.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model named on the hub: a repository and, optionally, the file type wanted, written {@code owner/name} or
 * {@code owner/name:q4_0} as llama.cpp's {@code -hf} option takes it. An {@code hf.co/} prefix is accepted too.
 *
 * @param tag the type (e.g. "q4_0", "Q4_K_M"), lower case; null when none was given
 */
public record HubRef(RepoId repo, String tag) {
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_.-]{1,32}");

    public HubRef {
        Objects.requireNonNull(repo, "repo");
        tag = normalizeTag(tag);
    }

    /** A type tag checked and in lower case; null stays null. */
    static String normalizeTag(String tag) {
        if (tag == null) return null;
        if (!TAG.matcher(tag).matches()) throw new IllegalArgumentException("invalid type '" + tag + "' (e.g. q8_0, q4_0, q4_k_m)");
        return tag.toLowerCase(Locale.ROOT);
    }

    /** Parses {@code owner/name[:tag]}, with an optional {@code hf.co/} or {@code huggingface.co/} prefix. */
    public static HubRef parse(String text) {
        Objects.requireNonNull(text, "text");
        String s = text.strip();
        for (String prefix : new String[] {"hf.co/", "huggingface.co/"}) {
            if (s.startsWith(prefix)) s = s.substring(prefix.length());
        }
        int colon = s.indexOf(':');
        String tag = colon < 0 ? null : s.substring(colon + 1);
        if (tag != null && tag.isEmpty()) throw new IllegalArgumentException("'" + text + "' has an empty type after ':'");
        return new HubRef(RepoId.parse(colon < 0 ? s : s.substring(0, colon)), tag);
    }

    /**
     * Whether a model argument names a hub repository rather than a file: it is {@code owner/name[:tag]} and no
     * file or folder of that name exists (so {@code models/x} is a path when it exists, and a name ending in
     * {@code .gguf} is always a path).
     */
    public static boolean isHubReference(String modelArgument) {
        if (modelArgument == null || modelArgument.endsWith(".gguf")) return false;
        try {
            parse(modelArgument);
        } catch (IllegalArgumentException e) {
            return false;
        }
        try {
            return !Files.exists(Path.of(modelArgument));
        } catch (InvalidPathException e) {
            return true;
        }
    }

    /** The same repository with this tag (kept when tag is null). */
    public HubRef withDefaultTag(String defaultTag) {
        return tag != null || defaultTag == null ? this : new HubRef(repo, defaultTag);
    }

    @Override
    public String toString() {
        return tag == null ? repo.toString() : repo + ":" + tag;
    }
}
