package io.github.mobilellm4j.server;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;

/**
 * The errors the web server answers itself, outside the endpoints' handlers (a body over the size limit, more
 * requests at once than the server reads, malformed HTTP), in OpenAI's error shape like every other error, so that
 * clients see the same JSON whatever refused the request.
 */
final class WebServerErrors implements DirectHandler {
    private final long maxRequestBytes;
    private final int maxConnections;
    private final ServerMetrics metrics;

    WebServerErrors(long maxRequestBytes, int maxConnections, ServerMetrics metrics) {
        this.maxRequestBytes = maxRequestBytes;
        this.maxConnections = maxConnections;
        this.metrics = metrics;
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                    ServerResponseHeaders headers, String message) {
        int code = status.code();
        ApiException e = switch (code) {
            case 413 -> new ApiException(413, "invalid_request_error", null, "request_too_large", "the request body is larger than this server's limit of "
                    + maxRequestBytes + " bytes (set by --max-request-bytes, or maxRequestBytes of the server's builder)");
            case 503 -> ApiException.busy("the server is already reading its maximum of " + maxConnections
                    + " requests at once (set by maxConnections of the server's builder); retry later");
            default -> new ApiException(code, code >= 500 ? "server_error" : "invalid_request_error", null, null,
                    message != null && !message.isBlank() ? message : status.reasonPhrase());
        };
        metrics.failed(code);
        TransportResponse.Builder res = TransportResponse.builder().status(status).headers(headers).keepAlive(eventType.keepAlive())
                .header(HeaderNames.CONTENT_TYPE, "application/json").entity(e.body());
        if (code == 503) res.header(HeaderNames.RETRY_AFTER, "1");
        return res.build();
    }
}
