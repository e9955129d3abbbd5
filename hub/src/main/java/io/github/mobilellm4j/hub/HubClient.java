package io.github.mobilellm4j.hub;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Downloads files of hub repositories into a cache shared with huggingface_hub (see {@link HubOptions#hubCache()}),
 * reusing what it holds: a file already in the snapshot of its commit, or a blob with the same checksum from
 * another commit, is not downloaded again. Thread-safe; several processes may share the cache.
 */
public final class HubClient {
    private final HubOptions options;
    private final HubApi api;

    public HubClient(HubOptions options) {
        this.options = Objects.requireNonNull(options, "options");
        this.api = new HubApi(options);
    }

    public HubOptions options() {
        return options;
    }

    /**
     * The commit and files of the repository at the options' revision; records the commit under
     * {@code refs/REVISION} in the cache.
     *
     * @throws HubException when the hub cannot be reached or refuses (the message says why); with
     *     {@link HubOptions#offline()} always
     */
    public RepoInfo repoInfo(RepoId repo) {
        Objects.requireNonNull(repo, "repo");
        if (options.offline()) throw new HubException("offline (HF_HUB_OFFLINE): cannot ask the hub about " + repo);
        try {
            RepoInfo info = api.repoInfo(repo, options.revision());
            new HubCache(options.hubCache(), repo).saveRef(options.revision(), info.commit());
            return info;
        } catch (IOException e) {
            throw unreachable(repo, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while asking the hub about " + repo, e);
        }
    }

    /** Downloads one file unless the cache has it; returns its path in the snapshot of the commit. */
    public Path download(RepoInfo info, RepoFile file) {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(file, "file");
        HubCache cache = new HubCache(options.hubCache(), info.repo());
        try {
            if (cache.has(info.commit(), file.path())) return cache.snapshotFile(info.commit(), file.path());
            try (AutoCloseable lock = cache.lock(file.etag())) {
                if (!java.nio.file.Files.isRegularFile(cache.blob(file.etag()))) {
                    new BlobDownload(api, info, file, cache.blob(file.etag())).run();
                }
            }
            return cache.link(info.commit(), file.path(), file.etag());
        } catch (HubException e) {
            throw e;
        } catch (IOException e) { // network failures became HubExceptions after the retries: this is the disk
            throw new HubException("cannot store " + file.path() + " of " + info.repo() + " in " + options.hubCache() + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while downloading " + file.path() + " of " + info.repo(), e);
        } catch (Exception e) { // from closing the lock
            throw new HubException("cannot download " + file.path() + " of " + info.repo() + ": " + e.getMessage(), e);
        }
    }

    /** Downloads the files (those the cache lacks) and returns the snapshot folder of the commit. */
    public Path download(RepoInfo info, List<RepoFile> files) {
        for (RepoFile f : files) download(info, f);
        return new HubCache(options.hubCache(), info.repo()).snapshot(info.commit());
    }

    /**
     * The cached snapshot of the options' revision (the commit recorded for it when it was last fetched), for use
     * without the hub; null when the cache has none.
     */
    public Path cachedSnapshot(RepoId repo) {
        HubCache cache = new HubCache(options.hubCache(), repo);
        String commit = cache.commitOf(options.revision());
        return commit == null ? null : cache.snapshot(commit);
    }

    /** Whether a failure means the hub could not be reached at all (as opposed to an answer). */
    static boolean isUnreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof HttpConnectTimeoutException
                    || t instanceof InterruptedIOException) {
                return true;
            }
        }
        return false;
    }

    private HubException unreachable(RepoId repo, IOException e) {
        String why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        return new HubException("cannot reach the hub at " + options.endpoint() + " for " + repo + ": " + why, e);
    }
}
