package io.github.mobilellm4j.server;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.service.SessionPool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Loads the model given, starts a server over it with the web server's logs at WARNING (as {@code mobilellm serve}
 * sets them), prints the status of its {@code GET /health} on stdout and stops: the process whose stderr
 * {@link ServerErrorsTest} checks.
 */
public final class ServerStart {
    // held here: java.util.logging keeps loggers weakly, and a collected one would forget its level
    private static final Logger WEB_SERVER_LOG = Logger.getLogger("io.helidon");

    private ServerStart() {
    }

    public static void main(String[] args) throws Exception {
        WEB_SERVER_LOG.setLevel(Level.WARNING);
        try (Model model = Model.load(Path.of(args[0]));
             SessionPool pool = SessionPool.of(model);
             OpenAiServer server = OpenAiServer.builder().service(pool).port(0).build().start();
             HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.println(health.statusCode());
        }
    }
}
