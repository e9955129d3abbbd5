package io.github.mobilellm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server answers with an error in OpenAI's shape: an HTTP status and
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;

    /** param and code may be null (they are sent as JSON null). */
    ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** A malformed or unsupported request (400), naming the parameter at fault when there is one. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    /** No capacity for the request now (503, with Retry-After): the client should try again. */
    static ApiException busy(String message) {
        return new ApiException(503, "server_error", null, "server_busy", message);
    }

    /** The response body: OpenAI's error object. */
    byte[] body() {
        ObjectNode err = OpenAiServer.JSON.createObjectNode();
        ObjectNode o = err.putObject("error").put("message", getMessage()).put("type", type);
        if (param != null) o.put("param", param); else o.putNull("param");
        if (code != null) o.put("code", code); else o.putNull("code");
        try {
            return OpenAiServer.JSON.writeValueAsBytes(err);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
