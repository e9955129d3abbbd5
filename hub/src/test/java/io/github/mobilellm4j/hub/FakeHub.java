package io.github.mobilellm4j.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face hub on loopback, shaped as the real one answers (the model API with and without {@code blobs},
 * the tree and paths-info APIs that the official JavaScript client uses, {@code resolve} URLs that redirect LFS
 * files to a CDN with signed URLs, the X-Error-Code headers of gated and missing repositories), and a second
 * server on another port playing the CDN. Faults can be injected per file: a connection dropped after some bytes,
 * a stall, corrupted bytes. Every request is recorded.
 */
public final class FakeHub implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");

    /** A request as a server saw it. */
    public record Request(String server, String method, String path, String range, String authorization) {
    }

    /** One file: its bytes, and whether the repository keeps it in Git LFS. */
    public record Entry(String path, byte[] bytes, boolean lfs) {
        String sha256() {
            return hex("SHA-256", null, bytes);
        }

        String gitOid() {
            return hex("SHA-1", ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII), bytes);
        }

        String etag() {
            return lfs ? sha256() : gitOid();
        }
    }

    /** A repository at one commit; token non-null makes it gated, readable with that token only. */
    public record Repo(String id, String commit, Map<String, Entry> files, String token) {
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, Entry> blobs = new ConcurrentHashMap<>();
    public final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> dropAfter = new ConcurrentHashMap<>();
    private final Map<String, Integer> stallAfter = new ConcurrentHashMap<>();
    private final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    private volatile List<String> extraSiblings = List.of();

    public FakeHub() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.start();
        cdn.start();
    }

    public String endpoint() {
        return "http://" + hub.getAddress().getHostString() + ":" + hub.getAddress().getPort();
    }

    public String cdnOrigin() {
        return "http://" + cdn.getAddress().getHostString() + ":" + cdn.getAddress().getPort();
    }

    /** Adds a repository holding the given files; names in lfs are stored in Git LFS. */
    public Repo add(String id, Map<String, byte[]> files, List<String> lfs, String token) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        files.forEach((name, bytes) -> entries.put(name, new Entry(name, bytes, lfs.contains(name))));
        Repo r = new Repo(id, hex("SHA-1", null, (id + "@v1").getBytes(StandardCharsets.UTF_8)), entries, token);
        repos.put(id, r);
        entries.values().forEach(e -> blobs.put(e.sha256(), e));
        return r;
    }

    /** The files of a checkpoint folder, as a map for {@link #add}. */
    public static Map<String, byte[]> folder(Path dir) throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (var s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) m.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return m;
    }

    /** The next download of this file is cut off after n bytes (once). */
    public void dropAfter(String path, int n) {
        dropAfter.put(path, n);
    }

    /** The next download of this file stops sending after n bytes for a few seconds (once). */
    public void stallAfter(String path, int n) {
        stallAfter.put(path, n);
    }

    /** Downloads of this file deliver one wrong byte. */
    public void corrupt(String path) {
        corrupt.put(path, true);
    }

    /** Extra sibling names the model API lists (e.g. unsafe paths). */
    public void listExtra(List<String> names) {
        extraSiblings = List.copyOf(names);
    }

    public List<Request> requests(String server) {
        return requests.stream().filter(r -> r.server().equals(server)).toList();
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }

    // ---- the hub ---------------------------------------------------------------------------------

    private static final Pattern API = Pattern.compile("/api/models/([^/]+/[^/]+)/(revision|tree|paths-info)/([^/?]+)");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");

    private void hub(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getRawPath();
            record(x, "hub");
            Matcher api = API.matcher(path);
            Matcher resolve = RESOLVE.matcher(path);
            if (api.matches()) {
                Repo r = repos.get(api.group(1));
                if (r == null) {
                    error(x, 401, "RepoNotFound", "Repository not found");
                    return;
                }
                String rev = URLDecoder.decode(api.group(3), StandardCharsets.UTF_8);
                if (!rev.equals("main") && !rev.equals(r.commit())) {
                    error(x, 404, "RevisionNotFound", "Invalid rev id: " + rev);
                    return;
                }
                switch (api.group(2)) {
                    case "revision" -> json(x, info(r, String.valueOf(x.getRequestURI().getQuery()).contains("blobs=true")));
                    case "tree" -> json(x, entries(r, List.copyOf(r.files().keySet())));
                    default -> {
                        var body = JSON.readTree(x.getRequestBody());
                        List<String> paths = new ArrayList<>();
                        body.path("paths").forEach(p -> paths.add(p.asText()));
                        json(x, entries(r, paths));
                    }
                }
            } else if (resolve.matches()) {
                Repo r = repos.get(resolve.group(1));
                Entry e = r == null ? null : r.files().get(URLDecoder.decode(resolve.group(3), StandardCharsets.UTF_8));
                if (r == null) {
                    error(x, 401, "RepoNotFound", "Repository not found");
                } else if (e == null) {
                    error(x, 404, "EntryNotFound", "Entry not found");
                } else if (r.token() != null && !("Bearer " + r.token()).equals(x.getRequestHeaders().getFirst("Authorization"))) {
                    boolean anonymous = x.getRequestHeaders().getFirst("Authorization") == null;
                    error(x, anonymous ? 401 : 403, "GatedRepo", anonymous
                            ? "Access to model " + r.id() + " is restricted. You must have access to it and be authenticated to access it. Please log in."
                            : "Access to model " + r.id() + " is restricted and you are not in the authorized list. Visit " + endpoint() + "/" + r.id() + " to ask for access.");
                } else {
                    Headers h = x.getResponseHeaders();
                    h.set("X-Repo-Commit", r.commit());
                    if (e.lfs()) {
                        h.set("X-Linked-Etag", "\"" + e.sha256() + "\"");
                        h.set("X-Linked-Size", Long.toString(e.bytes().length));
                        h.set("ETag", "\"" + e.gitOid() + "\"");
                        h.set("Location", cdnOrigin() + "/repos/ab/cd/" + e.sha256() + "?X-Amz-Signature=" + e.sha256().substring(0, 16));
                        x.sendResponseHeaders(302, -1);
                    } else {
                        h.set("ETag", "\"" + e.gitOid() + "\"");
                        body(x, e, "hub");
                    }
                }
            } else {
                error(x, 404, null, "Not found");
            }
        }
    }

    private ObjectNode info(Repo r, boolean blobs) {
        ObjectNode o = JSON.createObjectNode();
        o.put("_id", "0123456789abcdef01234567");
        o.put("id", r.id());
        o.put("modelId", r.id());
        o.put("sha", r.commit());
        o.put("private", false);
        if (r.token() != null) o.put("gated", "manual"); else o.put("gated", false);
        o.put("lastModified", "2026-01-01T00:00:00.000Z");
        ArrayNode siblings = o.putArray("siblings");
        for (Entry e : r.files().values()) {
            ObjectNode s = siblings.addObject();
            s.put("rfilename", e.path());
            if (blobs) {
                s.put("blobId", e.gitOid());
                s.put("size", e.bytes().length);
                if (e.lfs()) {
                    ObjectNode lfs = s.putObject("lfs");
                    lfs.put("sha256", e.sha256());
                    lfs.put("size", e.bytes().length);
                    lfs.put("pointerSize", 134);
                }
            }
        }
        for (String extra : extraSiblings) {
            ObjectNode s = siblings.addObject();
            s.put("rfilename", extra);
            if (blobs) {
                s.put("blobId", "0".repeat(40));
                s.put("size", 1);
            }
        }
        return o;
    }

    private ArrayNode entries(Repo r, List<String> paths) {
        ArrayNode a = JSON.createArrayNode();
        for (String p : paths) {
            Entry e = r.files().get(p);
            if (e == null) continue;
            ObjectNode o = a.addObject();
            o.put("type", "file");
            o.put("oid", e.gitOid());
            o.put("size", e.bytes().length);
            o.put("path", e.path());
            if (e.lfs()) {
                ObjectNode lfs = o.putObject("lfs");
                lfs.put("oid", e.sha256());
                lfs.put("size", e.bytes().length);
                lfs.put("pointerSize", 134);
            }
        }
        return a;
    }

    // ---- the CDN ---------------------------------------------------------------------------------

    private void cdn(HttpExchange x) throws IOException {
        try (x) {
            record(x, "cdn");
            String path = x.getRequestURI().getPath();
            Entry e = blobs.get(path.substring(path.lastIndexOf('/') + 1));
            if (e == null || !String.valueOf(x.getRequestURI().getQuery()).startsWith("X-Amz-Signature=")) {
                x.sendResponseHeaders(403, -1);
                return;
            }
            x.getResponseHeaders().set("ETag", "\"" + e.sha256() + "\"");
            body(x, e, "cdn");
        }
    }

    /** Sends the file, or the range asked for, with the faults injected for it. */
    private void body(HttpExchange x, Entry e, String server) throws IOException {
        byte[] bytes = e.bytes();
        if (corrupt.containsKey(e.path())) {
            bytes = bytes.clone();
            bytes[bytes.length / 2] ^= 0x55;
        }
        int from = 0, to = bytes.length - 1;
        String range = x.getRequestHeaders().getFirst("Range");
        Matcher m = range == null ? null : RANGE.matcher(range);
        if (m != null && m.matches()) {
            from = Integer.parseInt(m.group(1));
            if (!m.group(2).isEmpty()) to = Math.min(to, Integer.parseInt(m.group(2)));
            if (from >= bytes.length) {
                x.getResponseHeaders().set("Content-Range", "bytes */" + bytes.length);
                x.sendResponseHeaders(416, -1);
                return;
            }
            x.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + to + "/" + bytes.length);
        }
        int status = m != null && m.matches() ? 206 : 200;
        if (x.getRequestMethod().equals("HEAD")) {
            x.getResponseHeaders().set("Content-Length", Integer.toString(to + 1 - from));
            x.sendResponseHeaders(status, -1);
            return;
        }
        x.sendResponseHeaders(status, to + 1 - from);
        OutputStream out = x.getResponseBody();
        Integer drop = dropAfter.remove(e.path());
        Integer stall = stallAfter.remove(e.path());
        if (drop != null && drop > from) {
            out.write(bytes, from, drop - from);
            out.flush();
            throw new IOException("connection dropped on purpose after " + drop + " bytes"); // the server closes it
        }
        if (stall != null && stall > from) {
            out.write(bytes, from, stall - from);
            out.flush();
            try {
                Thread.sleep(4000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            from = stall;
        }
        out.write(bytes, from, to + 1 - from);
    }

    private void record(HttpExchange x, String server) {
        String q = x.getRequestURI().getRawQuery();
        requests.add(new Request(server, x.getRequestMethod(), x.getRequestURI().getRawPath() + (q == null ? "" : "?" + q),
                x.getRequestHeaders().getFirst("Range"), x.getRequestHeaders().getFirst("Authorization")));
    }

    private static void json(HttpExchange x, Object body) throws IOException {
        byte[] b = JSON.writeValueAsBytes(body);
        x.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        x.sendResponseHeaders(200, b.length);
        x.getResponseBody().write(b);
    }

    private static void error(HttpExchange x, int status, String code, String message) throws IOException {
        if (code != null) x.getResponseHeaders().set("X-Error-Code", code);
        x.getResponseHeaders().set("X-Error-Message", message);
        byte[] b = JSON.writeValueAsBytes(Map.of("error", message));
        x.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        x.sendResponseHeaders(status, b.length);
        x.getResponseBody().write(b);
    }

    public static String hex(String algorithm, byte[] prefix, byte[] bytes) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            if (prefix != null) md.update(prefix);
            return HexFormat.of().formatHex(md.digest(bytes));
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    public static List<String> names(List<Request> rs) {
        List<String> n = new ArrayList<>();
        for (Request r : rs) n.add(r.path());
        return Collections.unmodifiableList(n);
    }
}
