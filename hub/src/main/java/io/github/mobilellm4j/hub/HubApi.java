package io.github.mobilellm4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The hub's HTTP API as huggingface_hub uses it: the model API for a revision's commit and files, {@code resolve}
 * URLs for file contents, redirects followed by hand so that the access token goes only to the hub itself (a
 * redirect to another host, such as the CDN's signed URLs, gets no Authorization header), and the hub's error
 * headers ({@code X-Error-Code}, {@code X-Error-Message}) turned into messages that say what to do.
 */
final class HubApi {
    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "mobilellm4j/" + version() + "; java/" + Runtime.version().feature();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HubOptions options;
    private final HttpClient client;

    HubApi(HubOptions options) {
        this.options = options;
        this.client = HttpClient.newBuilder().connectTimeout(options.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    HubOptions options() {
        return options;
    }

    /** The commit and files of a revision: GET /api/models/OWNER/NAME/revision/REV?blobs=true. */
    RepoInfo repoInfo(RepoId repo, String revision) throws IOException, InterruptedException {
        URI uri = URI.create(options.endpoint() + "/api/models/" + repo + "/revision/" + encode(revision) + "?blobs=true");
        HttpResponse<byte[]> r = send(uri, "GET", Map.of("Accept", "application/json"), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw error(r, repo, revision, null, false);
        JsonNode root;
        try {
            root = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new HubException(repo + ": the hub's answer for revision " + revision + " is not JSON (" + uri + ")", e);
        }
        List<RepoFile> files = new ArrayList<>();
        for (JsonNode s : root.path("siblings")) {
            JsonNode lfs = s.path("lfs");
            String sha256 = lfs.isObject() ? lfs.path("sha256").asText(lfs.path("oid").asText(null)) : null;
            try {
                files.add(new RepoFile(s.path("rfilename").asText(), lfs.isObject() ? lfs.path("size").asLong(s.path("size").asLong())
                        : s.path("size").asLong(), s.path("blobId").asText(null), sha256));
            } catch (IllegalArgumentException e) {
                throw new HubException(repo + ": the hub lists a file that cannot be stored safely: " + e.getMessage(), e);
            }
        }
        JsonNode gated = root.path("gated");
        try {
            return new RepoInfo(repo, revision, root.path("sha").asText(null), files,
                    gated.isTextual() || gated.asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new HubException(e.getMessage(), e);
        }
    }

    /** {endpoint}/OWNER/NAME/resolve/COMMIT/PATH, each path segment encoded. */
    URI resolveUri(RepoId repo, String commit, String path) {
        StringBuilder b = new StringBuilder(options.endpoint().toString()).append('/').append(repo).append("/resolve/")
                .append(encode(commit));
        for (String segment : path.split("/")) b.append('/').append(encode(segment));
        return URI.create(b.toString());
    }

    /**
     * Sends a request and follows redirects (at most {@value #MAX_REDIRECTS}); the token goes only to the scheme,
     * host and port of the first request. The body of a redirect is discarded; the last response's goes to handler.
     */
    <T> HttpResponse<T> send(URI uri, String method, Map<String, String> headers, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).method(method, HttpRequest.BodyPublishers.noBody())
                    .timeout(options.connectTimeout().plus(options.readTimeout())).header("User-Agent", USER_AGENT);
            headers.forEach(b::header);
            if (options.token() != null && sameOrigin(current, uri)) b.header("Authorization", "Bearer " + options.token());
            HttpResponse<T> r = client.send(b.build(),
                    info -> isRedirect(info.statusCode()) ? HttpResponse.BodySubscribers.replacing(null) : handler.apply(info));
            if (!isRedirect(r.statusCode())) return r;
            String location = r.headers().firstValue("Location")
                    .orElseThrow(() -> new IOException("redirect " + r.statusCode() + " without a Location from " + r.uri()));
            current = current.resolve(location);
            if (!"https".equals(current.getScheme()) && !"http".equals(current.getScheme())) {
                throw new HubException("the hub redirected " + uri + " to a non-HTTP address: " + location);
            }
        }
        throw new HubException("too many redirects (more than " + MAX_REDIRECTS + ") fetching " + uri);
    }

    /**
     * The failure a response stands for. gated: the repository is known to be gated. file: the file asked for, or
     * null for the repository itself.
     */
    HubException error(HttpResponse<?> r, RepoId repo, String revision, String file, boolean gated) {
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String detail = r.headers().firstValue("X-Error-Message").map(m -> " (the hub says: " + m + ")").orElse("");
        String page = repo.page(options.endpoint().toString());
        int status = r.statusCode();
        String what = file == null ? repo.toString() : file + " of " + repo;
        if (code.equals("GatedRepo") || (gated && (status == 401 || status == 403))) {
            if (options.token() == null) {
                return new HubException(repo + " is a gated repository: accept its licence on " + page
                        + " (logged in), then give an access token with read access (HF_TOKEN, or the token option)" + detail);
            }
            return new HubException("access to " + repo + " was refused with the token given: " + repo
                    + " is a gated repository; accept its licence on " + page + " with the account the token belongs to"
                    + " (access may need the authors' approval) and check that the token can read it" + detail);
        }
        if (code.equals("RepoNotFound") || (status == 401 && file == null)) {
            return new HubException("repository " + repo + " not found on " + options.endpoint()
                    + (options.token() == null ? " (a private repository needs an access token: HF_TOKEN, or the token option)"
                            : " (or the token given cannot read it)") + detail);
        }
        if (code.equals("RevisionNotFound")) return new HubException("revision '" + revision + "' not found in " + repo + detail);
        if (code.equals("EntryNotFound") || status == 404) {
            return new HubException((file == null ? repo + " at " + revision : what) + ": not found on " + options.endpoint() + detail);
        }
        if (status == 401) return new HubException("the hub refused the access token given for " + what + " (401): check it" + detail);
        if (status == 403) return new HubException("access to " + what + " is forbidden (403)" + detail);
        return new HubException("the hub answered " + status + " for " + what + " (" + r.uri() + ")" + detail);
    }

    static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80;
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String version() {
        String v = HubApi.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
