package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.server.OpenAiServer;
import io.github.mobilellm4j.service.SessionPool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/** serve: an OpenAI-compatible HTTP server over the model, until the process is stopped. */
final class ServeCommand implements Command {
    // the web server's start and stop notices would drown the tool's own lines; warnings still show
    private static final Logger WEB_SERVER_LOG = Logger.getLogger("io.helidon");

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models)";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm serve [-m MODEL] [--host H] [--port P] [--parallel N] [--api-key KEY] [--max-tokens N]
                                       [--timeout S] [--queue-timeout S] [--max-request-bytes N]
                  --host H              address to listen on (default 127.0.0.1)
                  --port P              port (default 8080; 0 = any free one)
                  --parallel N          requests generated at once, one session each, decoded together
                                        one forward pass per token (continuous batching; default 1)
                  --queue-timeout S     seconds a request waits for a free session, then 503 (default 30)
                  --api-key KEY         requests must carry Authorization: Bearer KEY
                                        (default: the MOBILELLM_API_KEY environment variable, else none)
                  --max-tokens N        default and ceiling of max_tokens (default 2048)
                  --timeout S           seconds one request may take (default 300)
                  --max-request-bytes N largest request body (default 1048576)
                Stops on Ctrl-C. Chat needs a model with a chat template; /v1/completions continues any text.
                """ + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        return ModelArgs.with(Option.valued("--host"), Option.valued("--port"), Option.valued("--parallel"),
                Option.valued("--queue-timeout"), Option.valued("--api-key"), Option.valued("--max-tokens"),
                Option.valued("--timeout"), Option.valued("--max-request-bytes"));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        int parallel = a.intValue("--parallel", 1);
        if (parallel < 1 || parallel > 256) throw a.invalid("--parallel", "must be in 1..256");
        int queueTimeout = a.intValue("--queue-timeout", 30);
        if (queueTimeout < 0) throw a.invalid("--queue-timeout", "must be >= 0");
        String key = a.get("--api-key") != null ? a.get("--api-key") : io.env().get("MOBILELLM_API_KEY");
        // settings checked before the model loads: a typo costs no loading time
        OpenAiServer.Builder settings = OpenAiServer.builder();
        a.withInt("--port", settings::port);
        a.withInt("--max-tokens", settings::maxTokens);
        a.withInt("--timeout", s -> settings.requestTimeout(Duration.ofSeconds(s)));
        if (a.has("--max-request-bytes")) {
            long bytes = a.longValue("--max-request-bytes", 0);
            if (bytes < 1024) throw a.invalid("--max-request-bytes", "must be >= 1024");
            settings.maxRequestBytes(bytes);
        }
        if (a.get("--host") != null) settings.host(a.get("--host"));
        settings.apiKey(key);

        WEB_SERVER_LOG.setLevel(Level.WARNING);
        try (Model model = ModelArgs.load(a, true, io);
             SessionPool pool = SessionPool.builder(model).maxSessions(parallel).batched(parallel > 1).acquireTimeout(Duration.ofSeconds(queueTimeout)).build();
             OpenAiServer server = settings.service(pool).build().start()) {
            io.err().printf("mobilellm: serving %s on http://%s:%d/v1 (%d at once%s)%n", server.modelName(),
                    a.get("--host") != null ? a.get("--host") : "127.0.0.1", server.port(), parallel, key != null ? ", API key required" : "");
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
            stopped.await();
        }
        return 0;
    }
}
