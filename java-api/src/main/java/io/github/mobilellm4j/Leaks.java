package io.github.mobilellm4j;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The safety net for models and sessions that were never closed: the garbage collector's {@link Cleaner} frees
 * their native memory, and the first such rescue per kind is logged once, so a leak is noticed without flooding
 * the log.
 */
final class Leaks {
    static final Cleaner CLEANER = Cleaner.create(runnable -> {
        Thread t = new Thread(runnable, "mobilellm-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final System.Logger LOG = System.getLogger("io.github.mobilellm4j");
    private static final AtomicBoolean MODEL_WARNED = new AtomicBoolean();
    private static final AtomicBoolean SESSION_WARNED = new AtomicBoolean();

    private Leaks() {}

    /** Whether a model was freed by the Cleaner (and the warning logged) in this JVM. */
    static boolean modelRescued() {
        return MODEL_WARNED.get();
    }

    /** Whether a session was freed by the Cleaner (and the warning logged) in this JVM. */
    static boolean sessionRescued() {
        return SESSION_WARNED.get();
    }

    static void modelNotClosed(String path) {
        if (MODEL_WARNED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "a Model (" + path + ") was not closed; the garbage collector freed "
                    + "it. Close models (try-with-resources) to free their memory when you are done (logged once).");
        }
    }

    static void sessionNotClosed() {
        if (SESSION_WARNED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "a Session was not closed; the garbage collector freed it. Close "
                    + "sessions (try-with-resources) to free their KV cache when you are done (logged once).");
        }
    }
}
