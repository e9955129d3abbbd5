package io.github.mobilellm4j.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * One repository's folder in a download cache laid out as huggingface_hub lays it out, so that both share files:
 *
 * <pre>
 * CACHE/models--OWNER--NAME/blobs/ETAG                 file contents, named by LFS SHA-256 or git blob id
 * CACHE/models--OWNER--NAME/blobs/ETAG.incomplete      a download in progress (resumed from its size)
 * CACHE/models--OWNER--NAME/snapshots/COMMIT/PATH      relative symbolic links to the blobs (copies where
 *                                                      the file system has no links)
 * CACHE/models--OWNER--NAME/refs/REVISION              the commit a branch or tag pointed to when last seen
 * CACHE/.locks/models--OWNER--NAME/ETAG.lock           held while a blob is downloaded
 * </pre>
 */
final class HubCache {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** File locks are per JVM and throw when the same JVM asks twice; threads queue here first. */
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final Path root;
    private final Path repoDir;
    private final RepoId repo;

    HubCache(Path root, RepoId repo) {
        this.root = root;
        this.repo = repo;
        this.repoDir = root.resolve(repo.cacheFolderName());
    }

    Path blob(String etag) {
        return repoDir.resolve("blobs").resolve(etag);
    }

    Path snapshot(String commit) {
        return repoDir.resolve("snapshots").resolve(commit);
    }

    Path snapshotFile(String commit, String path) {
        return snapshot(commit).resolve(path);
    }

    /** The commit a revision is known to point to (a commit hash names itself when its snapshot exists), or null. */
    String commitOf(String revision) {
        if (COMMIT.matcher(revision).matches() && Files.isDirectory(snapshot(revision))) return revision;
        Path ref = repoDir.resolve("refs").resolve(revision);
        try {
            if (!Files.isRegularFile(ref)) return null;
            String commit = Files.readString(ref).strip();
            return COMMIT.matcher(commit).matches() ? commit : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ref, e);
        }
    }

    /** Records that revision points to commit (nothing to record when the revision is the commit). */
    void saveRef(String revision, String commit) throws IOException {
        if (revision.equals(commit)) return;
        Path ref = repoDir.resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
        try {
            Files.writeString(tmp, commit);
            move(tmp, ref);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Whether the snapshot holds the file (a link whose blob exists, or a copy). */
    boolean has(String commit, String path) {
        return Files.isRegularFile(snapshotFile(commit, path));
    }

    /**
     * Makes snapshots/COMMIT/PATH a relative symbolic link to the blob (as huggingface_hub makes it), or a copy of
     * the blob where links cannot be made.
     */
    Path link(String commit, String path, String etag) throws IOException {
        Path file = snapshotFile(commit, path);
        Files.createDirectories(file.getParent());
        Path target = file.getParent().relativize(blob(etag));
        Files.deleteIfExists(file);
        try {
            Files.createSymbolicLink(file, target);
        } catch (UnsupportedOperationException | IOException e) {
            copy(etag, file); // e.g. Windows without the privilege to make links
        }
        return file;
    }

    /** Holds the blob's lock, across threads and processes, until closed. */
    AutoCloseable lock(String etag) throws IOException {
        Path file = root.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock");
        Files.createDirectories(file.getParent());
        ReentrantLock local = LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), k -> new ReentrantLock());
        local.lock();
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.lock();
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            return () -> {
                try (ch) {
                    lock.release();
                } finally {
                    local.unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            local.unlock();
            throw e;
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private void copy(String etag, Path file) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), ".copy", ".tmp");
        try {
            Files.copy(blob(etag), tmp, StandardCopyOption.REPLACE_EXISTING);
            move(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
