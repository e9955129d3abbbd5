package io.github.mobilellm4j.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A file of a repository at one commit, as the hub lists it.
 *
 * @param path the file's path in the repository (e.g. "model.safetensors")
 * @param size its size in bytes
 * @param gitOid the git blob id (SHA-1 of "blob SIZE\0" and the content, for files stored in git)
 * @param sha256 the SHA-256 of the content for files stored with Git LFS, else null
 */
public record RepoFile(String path, long size, String gitOid, String sha256) {
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public RepoFile {
        checkPath(path);
        if (size < 0) throw new IllegalArgumentException(path + ": negative size " + size);
        if (sha256 != null && !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException(path + ": the LFS oid '" + sha256 + "' is not a SHA-256");
        }
        if (sha256 == null && (gitOid == null || !SHA1.matcher(gitOid).matches())) {
            throw new IllegalArgumentException(path + ": the blob id '" + gitOid + "' is not a git SHA-1");
        }
    }

    /** Stored with Git LFS (checked by SHA-256), else in git (checked by its git blob id). */
    public boolean isLfs() {
        return sha256 != null;
    }

    /** The name of the file's blob in a huggingface_hub cache: the LFS SHA-256, else the git blob id. */
    public String etag() {
        return isLfs() ? sha256 : gitOid;
    }

    /** Rejects absolute paths, '..' segments, backslashes and empty segments: a path must stay inside the snapshot. */
    static void checkPath(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains(":") || path.contains("\0")) {
            throw new IllegalArgumentException("unsafe file path in the repository: '" + path + "'");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("unsafe file path in the repository: '" + path + "'");
            }
        }
    }
}
