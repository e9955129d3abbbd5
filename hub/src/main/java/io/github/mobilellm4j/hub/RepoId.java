package io.github.mobilellm4j.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model repository on the Hugging Face hub, {@code owner/name} (e.g. {@code facebook/MobileLLM-125M}). The hub's
 * naming rules apply: letters, digits, '-', '_' and '.', no "--" or "..", at most 96 characters per part.
 */
public record RepoId(String owner, String name) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?");

    public RepoId {
        check(owner, "owner");
        check(name, "name");
    }

    /** Parses {@code owner/name}. */
    public static RepoId parse(String id) {
        Objects.requireNonNull(id, "id");
        int slash = id.indexOf('/');
        if (slash < 0 || slash != id.lastIndexOf('/')) {
            throw new IllegalArgumentException("'" + id + "' is not a repository id (expected owner/name, e.g. facebook/MobileLLM-125M)");
        }
        return new RepoId(id.substring(0, slash), id.substring(slash + 1));
    }

    /** True when id is a well-formed {@code owner/name}. */
    public static boolean isValid(String id) {
        try {
            parse(id);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The repository's folder in a huggingface_hub cache: {@code models--owner--name}. */
    public String cacheFolderName() {
        return "models--" + owner + "--" + name;
    }

    /** The repository's page on the hub (endpoint without a trailing slash). */
    public String page(String endpoint) {
        return endpoint + "/" + this;
    }

    @Override
    public String toString() {
        return owner + "/" + name;
    }

    private static void check(String part, String what) {
        Objects.requireNonNull(part, what);
        if (!PART.matcher(part).matches() || part.contains("--") || part.contains("..")) {
            throw new IllegalArgumentException("invalid repository " + what + " '" + part
                    + "' (letters, digits, '-', '_' and '.', not starting or ending with '-' or '.', no '--' or '..')");
        }
    }
}
