package io.github.mobilellm4j.server;

import io.helidon.logging.common.spi.LoggingProvider;

/**
 * Helidon's logging provider for the server: Helidon's loggers stay as the application has configured
 * java.util.logging (or whatever backs System.Logger), which is what an embedded server should do. Without a provider
 * Helidon prints a notice about the missing one on stderr at start.
 */
public final class ApplicationLogging implements LoggingProvider {
    @Override
    public void initialization() {
        // nothing to set up: the application's logging configuration applies
    }

    @Override
    public void runTime() {
        // nothing to set up: only a native image calls this
    }
}
