package io.github.mobilellm4j.hub;

/**
 * A model could not be fetched from the hub: the repository or file does not exist, access was refused, the
 * network failed past the retries, a download did not match its checksum, or the checkpoint did not convert.
 * The message names the repository and the problem, and says what to do where there is something to do.
 */
public class HubException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
