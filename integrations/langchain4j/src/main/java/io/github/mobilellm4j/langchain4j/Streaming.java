package io.github.mobilellm4j.langchain4j;

import dev.langchain4j.model.chat.response.StreamingHandle;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/** Running a streamed request off the caller's thread, and stopping it when the handler cancels. */
final class Streaming {
    static final Executor VIRTUAL_THREADS = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("mobilellm4j-stream-", 0).factory());

    private Streaming() {
    }

    /** Thrown from a token callback to end a cancelled generation; never reaches the handler. */
    static final class Cancelled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    /** The handle a handler cancels through. */
    static final class Handle implements StreamingHandle {
        private volatile boolean cancelled;

        @Override
        public void cancel() {
            cancelled = true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        /** Ends the generation (from its token callback) once cancelled. */
        void check() {
            if (cancelled) throw new Cancelled();
        }
    }

    /** Runs the request on the executor; its failure goes to onError, a cancellation nowhere. */
    static void run(Executor executor, Consumer<Throwable> onError, Handle handle, Runnable request) {
        Runnable task = () -> {
            try {
                request.run();
            } catch (Cancelled e) {
                // the handler asked to stop: it expects nothing more
            } catch (RuntimeException | Error e) {
                if (!handle.isCancelled()) onError.accept(e);
            }
        };
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            onError.accept(e);
        }
    }
}
