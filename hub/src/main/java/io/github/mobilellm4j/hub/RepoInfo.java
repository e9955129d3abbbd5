package io.github.mobilellm4j.hub;

import java.util.List;
import java.util.Optional;

/**
 * A repository at one commit: what the hub's model API answers for a revision.
 *
 * @param repo the repository
 * @param revision the branch, tag or commit asked for
 * @param commit the commit the revision points to (40 hex digits)
 * @param files its files
 * @param gated whether the hub asks users to accept conditions (a licence) before downloading
 */
public record RepoInfo(RepoId repo, String revision, String commit, List<RepoFile> files, boolean gated) {
    public RepoInfo {
        if (commit == null || !commit.matches("[0-9a-f]{40}")) {
            throw new IllegalArgumentException(repo + ": the hub gave no valid commit for revision " + revision + ": " + commit);
        }
        files = List.copyOf(files);
    }

    public Optional<RepoFile> file(String path) {
        return files.stream().filter(f -> f.path().equals(path)).findFirst();
    }

    public List<String> paths() {
        return files.stream().map(RepoFile::path).toList();
    }
}
