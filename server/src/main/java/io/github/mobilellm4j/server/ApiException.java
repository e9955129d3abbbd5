package io.github.mobilellm4j.server;

/** A request the server answers with an error in OpenAI's shape: an HTTP status, an error type and a message. */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;

    ApiException(int status, String type, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    /** A malformed or unsupported request (400), naming the parameter at fault when there is one. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, message);
    }
}
