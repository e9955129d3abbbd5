package io.github.mobilellm4j.hub;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Where and how models are fetched from the Hugging Face hub. Immutable; build with {@link #builder()}, which starts
 * from the environment variables huggingface_hub reads:
 *
 * <ul>
 *   <li>{@code HF_ENDPOINT}: the hub (default {@code https://huggingface.co});</li>
 *   <li>{@code HF_TOKEN} (or a token file: {@code HF_TOKEN_PATH}, else {@code $HF_HOME/token}, as written by
 *       {@code hf auth login}): the access token for gated and private repositories;</li>
 *   <li>{@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub}, else
 *       {@code ~/.cache/huggingface/hub}: the download cache, shared with huggingface_hub;</li>
 *   <li>{@code HF_HUB_OFFLINE=1}: use only what the caches hold;</li>
 *   <li>{@code HF_HUB_DOWNLOAD_TIMEOUT}: seconds without data before a download is resumed (default 10);</li>
 *   <li>{@code MOBILELLM_CACHE_DIR} (or the system property {@code mobilellm.cache.dir}, else
 *       {@code ~/.cache/mobilellm4j}): its {@code models} folder holds the GGUF files converted from checkpoints.</li>
 * </ul>
 */
public final class HubOptions {
    /** The type a checkpoint is converted to when none is asked for. */
    public static final String DEFAULT_TYPE = "q8_0";

    private final URI endpoint;
    private final String token;
    private final String revision;
    private final String type;
    private final Path hubCache;
    private final Path modelCache;
    private final boolean offline;
    private final PrintStream progress;
    private final boolean progressTerminal;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final int retries;

    private HubOptions(Builder b) {
        this.endpoint = b.endpoint;
        this.token = b.token;
        this.revision = b.revision;
        this.type = b.type;
        this.hubCache = b.hubCache;
        this.modelCache = b.modelCache;
        this.offline = b.offline;
        this.progress = b.progress;
        this.progressTerminal = b.progressTerminal;
        this.connectTimeout = b.connectTimeout;
        this.readTimeout = b.readTimeout;
        this.retries = b.retries;
    }

    /** Options from this process's environment variables. */
    public static HubOptions defaults() {
        return builder().build();
    }

    /** A builder starting from this process's environment variables (see the class comment). */
    public static Builder builder() {
        return builder(System.getenv());
    }

    /** A builder starting from the given environment variables instead of this process's. */
    public static Builder builder(Map<String, String> environment) {
        return new Builder(Objects.requireNonNull(environment, "environment"));
    }

    /** The hub's base address, without a trailing slash. */
    public URI endpoint() {
        return endpoint;
    }

    /** The access token, or null. */
    public String token() {
        return token;
    }

    public String revision() {
        return revision;
    }

    /** The type asked for (lower case, e.g. "q4_0"), or null for the default. */
    public String type() {
        return type;
    }

    /** The huggingface_hub-style download cache. */
    public Path hubCache() {
        return hubCache;
    }

    /** Where converted GGUF files are kept. */
    public Path modelCache() {
        return modelCache;
    }

    public boolean offline() {
        return offline;
    }

    /** Where progress goes, or null for none. */
    public PrintStream progress() {
        return progress;
    }

    /** Whether {@link #progress()} is a terminal (a line redrawn in place) rather than a log (plain lines). */
    public boolean progressTerminal() {
        return progressTerminal;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** How long a download may go without receiving data before it is resumed with a new request. */
    public Duration readTimeout() {
        return readTimeout;
    }

    /** How many times an interrupted download is resumed before giving up. */
    public int retries() {
        return retries;
    }

    public static final class Builder {
        private URI endpoint;
        private String token;
        private String revision = "main";
        private String type;
        private Path hubCache;
        private Path modelCache;
        private boolean offline;
        private PrintStream progress;
        private boolean progressTerminal;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(10);
        private int retries = 5;

        private Builder(Map<String, String> env) {
            String home = System.getProperty("user.home");
            endpoint(orElse(env.get("HF_ENDPOINT"), "https://huggingface.co"));
            String hfHome = orElse(env.get("HF_HOME"),
                    Path.of(orElse(env.get("XDG_CACHE_HOME"), Path.of(home, ".cache").toString()), "huggingface").toString());
            hubCache = Path.of(orElse(env.get("HF_HUB_CACHE"), Path.of(hfHome, "hub").toString()));
            token = orElse(env.get("HF_TOKEN"), env.get("HUGGING_FACE_HUB_TOKEN"));
            if (token == null) token = readTokenFile(Path.of(orElse(env.get("HF_TOKEN_PATH"), Path.of(hfHome, "token").toString())));
            offline = Set.of("1", "on", "yes", "true").contains(orElse(env.get("HF_HUB_OFFLINE"), "").toLowerCase(Locale.ROOT));
            String timeout = env.get("HF_HUB_DOWNLOAD_TIMEOUT");
            if (timeout != null && !timeout.isBlank()) {
                try {
                    readTimeout(Duration.ofMillis(Math.round(Double.parseDouble(timeout.strip()) * 1000)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("HF_HUB_DOWNLOAD_TIMEOUT must be a positive number of seconds, got '" + timeout + "'");
                }
            }
            String cache = orElse(System.getProperty("mobilellm.cache.dir"),
                    orElse(env.get("MOBILELLM_CACHE_DIR"), Path.of(home, ".cache", "mobilellm4j").toString()));
            modelCache = Path.of(cache, "models");
        }

        /** The hub's address, e.g. a mirror's (default from {@code HF_ENDPOINT}). */
        public Builder endpoint(String endpoint) {
            Objects.requireNonNull(endpoint, "endpoint");
            String e = endpoint.strip();
            while (e.endsWith("/")) e = e.substring(0, e.length() - 1);
            URI uri;
            try {
                uri = URI.create(e);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("the hub endpoint '" + endpoint + "' is not a URL");
            }
            if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("the hub endpoint '" + endpoint + "' is not an http(s) URL");
            }
            this.endpoint = uri;
            return this;
        }

        /** The access token for gated and private repositories (default from {@code HF_TOKEN}); null for none. */
        public Builder token(String token) {
            this.token = token == null || token.isBlank() ? null : token.strip();
            return this;
        }

        /** A branch, tag or commit (default "main"). */
        public Builder revision(String revision) {
            Objects.requireNonNull(revision, "revision");
            if (revision.isBlank() || revision.contains("..") || revision.startsWith("/") || revision.contains("\\")) {
                throw new IllegalArgumentException("invalid revision '" + revision + "'");
            }
            this.revision = revision;
            return this;
        }

        /**
         * The type wanted: the GGUF file of that type in a repository of GGUF files, or the type a checkpoint is
         * converted to (default {@value HubOptions#DEFAULT_TYPE}); a {@code :type} suffix of the reference wins.
         */
        public Builder type(String type) {
            this.type = HubRef.normalizeTag(type);
            return this;
        }

        public Builder hubCache(Path dir) {
            this.hubCache = Objects.requireNonNull(dir, "dir");
            return this;
        }

        public Builder modelCache(Path dir) {
            this.modelCache = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Only use what the caches hold; never connect (default from {@code HF_HUB_OFFLINE}). */
        public Builder offline(boolean offline) {
            this.offline = offline;
            return this;
        }

        /**
         * Shows download and conversion progress on out: a line redrawn in place when terminal, else a plain line
         * every few seconds. Default: none.
         */
        public Builder progress(PrintStream out, boolean terminal) {
            this.progress = out;
            this.progressTerminal = terminal;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** How long a download may receive nothing before it is resumed with a new request (default 10 s). */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = positive(timeout, "readTimeout");
            return this;
        }

        /** How many times an interrupted download is resumed (default 5). */
        public Builder retries(int retries) {
            if (retries < 0) throw new IllegalArgumentException("retries must be >= 0, got " + retries);
            this.retries = retries;
            return this;
        }

        public HubOptions build() {
            return new HubOptions(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(what + " must be positive, got " + d);
            return d;
        }

        private static String orElse(String value, String fallback) {
            return value == null || value.isBlank() ? fallback : value;
        }

        private static String readTokenFile(Path file) {
            if (!Files.isRegularFile(file)) return null;
            try {
                String t = Files.readString(file).strip();
                return t.isEmpty() ? null : t;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the hub token file " + file, e);
            }
        }
    }
}
