package io.github.mobilellm4j.hub;

import io.github.mobilellm4j.convert.ProgressLine;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads one file into its blob: into {@code ETAG.incomplete} first, resumed with a Range request from what it
 * already holds (after a dropped connection, a stall, a server error, or a run stopped earlier), then checked
 * against the checksum the hub lists (SHA-256 for LFS files, the git blob id otherwise) and renamed onto the blob.
 * A file that does not match is deleted, never kept.
 */
final class BlobDownload {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HubApi api;
    private final RepoInfo info;
    private final RepoFile file;
    private final Path blob;
    private final Path part;

    BlobDownload(HubApi api, RepoInfo info, RepoFile file, Path blob) {
        this.api = api;
        this.info = info;
        this.file = file;
        this.blob = blob;
        this.part = blob.resolveSibling(blob.getFileName() + ".incomplete");
    }

    /** Fetches the file into its blob (the caller holds the blob's lock). */
    void run() throws IOException, InterruptedException {
        HubOptions o = api.options();
        Files.createDirectories(blob.getParent());
        ProgressLine line = o.progress() == null ? null
                : ProgressLine.bytes(o.progress(), o.progressTerminal(), "downloading " + file.path(), file.size());
        URI uri = api.resolveUri(info.repo(), info.commit(), file.path());
        int failures = 0;
        while (true) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (have > file.size()) {
                Files.delete(part); // not a prefix of this file
                have = 0;
            }
            if (have == file.size()) {
                verify();
                break;
            }
            try {
                fetchFrom(uri, have, line);
            } catch (IOException e) {
                if (++failures > o.retries()) {
                    if (line != null) line.clear();
                    throw new HubException("downloading " + file.path() + " of " + info.repo() + " failed " + failures
                            + " times, last: " + describe(e) + "; run again to resume from " + size(part) + " bytes", e);
                }
                note(line, String.format(Locale.ROOT, "%s: %s; resuming at %.1f MB (attempt %d of %d)", file.path(),
                        describe(e), size(part) / 1e6, failures + 1, o.retries() + 1));
                Thread.sleep(Math.min(8000, 250L << Math.min(failures - 1, 5)));
            }
        }
        HubCache.move(part, blob);
        if (line != null) {
            line.clear();
            o.progress().printf(Locale.ROOT, "downloaded %s (%.1f MB)%n", file.path(), file.size() / 1e6);
        }
    }

    /**
     * One request for the bytes from have on; returns when the body has ended.
     *
     * @throws IOException for what a new request may mend: a failed or stalled connection, a body shorter than the
     *     file, a server error, a range the server would not give
     */
    private void fetchFrom(URI uri, long have, ProgressLine line) throws IOException, InterruptedException {
        Map<String, String> headers = have > 0 ? Map.of("Range", "bytes=" + have + "-", "Accept-Encoding", "identity")
                : Map.of("Accept-Encoding", "identity");
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            // decided before any of the body arrives: where it goes, or that it is not the file's bytes
            HttpResponse<FileTransfer> r = api.send(uri, "GET", headers, resp -> {
                long start = startOf(resp, have);
                if (start < 0) return HttpResponse.BodySubscribers.replacing(null);
                return new FileTransfer(ch, start, done -> {
                    if (line != null) line.update(done, "");
                });
            });
            int status = r.statusCode();
            if (status == 429 || status >= 500) throw new IOException("the server answered " + status);
            if (status != 200 && status != 206 && status != 416) {
                throw api.error(r, info.repo(), info.revision(), file.path(), info.gated());
            }
            if (r.body() == null) {
                ch.truncate(0); // a range other than the one asked for: start again from the first byte
                throw new IOException("the server would not resume at byte " + have + " (" + status + ")");
            }
            long end = r.body().await(api.options().readTimeout());
            ch.truncate(end); // a whole file (200) may be shorter than what a Range request had left
            if (end != file.size()) throw new IOException("the connection closed at byte " + end + " of " + file.size());
        }
    }

    /**
     * Where the body goes in the file: 0 for a whole file (200), have for a range that starts there (206), -1 for
     * anything else (an error status, or a range starting elsewhere).
     */
    private static long startOf(HttpResponse.ResponseInfo resp, long have) {
        if (resp.statusCode() == 200) return 0;
        if (resp.statusCode() != 206) return -1;
        Matcher m = CONTENT_RANGE.matcher(resp.headers().firstValue("Content-Range").orElse(""));
        return m.matches() && Long.parseLong(m.group(1)) == have ? have : -1;
    }

    /** Checks the complete part against the hub's checksum; a mismatch deletes it and throws. */
    private void verify() throws IOException {
        if (!Files.exists(part)) Files.createFile(part); // an empty file gets no body
        String actual = file.isLfs() ? digest("SHA-256", null)
                : digest("SHA-1", ("blob " + file.size() + "\0").getBytes(StandardCharsets.US_ASCII));
        if (actual.equals(file.etag())) return;
        Files.delete(part);
        throw new HubException("downloaded " + file.path() + " of " + info.repo() + " does not match the hub's checksum ("
                + (file.isLfs() ? "SHA-256 " : "git blob id ") + file.etag() + ", got " + actual
                + "); the download was discarded, run again to fetch it anew");
    }

    private static long size(Path p) throws IOException {
        return Files.exists(p) ? Files.size(p) : 0;
    }

    private String digest(String algorithm, byte[] prefix) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (prefix != null) md.update(prefix);
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                md.update(buf.flip());
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private void note(ProgressLine line, String message) {
        if (api.options().progress() == null) return;
        if (line != null) line.clear();
        api.options().progress().println(message);
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
