package io.github.mobilellm4j.hub;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;

/**
 * A response body written to a file as it arrives, from the HTTP client's threads, with a watch on stalls: the
 * caller's {@link #await} gives up when no data has come for a while (a connection that hangs without closing),
 * which the HTTP client's own timeout, covering only the headers, does not catch.
 */
final class FileTransfer implements HttpResponse.BodySubscriber<FileTransfer> {
    private final FileChannel out;
    private final LongConsumer progress;
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private volatile long lastData = System.nanoTime();
    private volatile Flow.Subscription subscription;
    private long position;

    /** Writes the body at position start of out, reporting each new end position to progress. */
    FileTransfer(FileChannel out, long start, LongConsumer progress) {
        this.out = out;
        this.position = start;
        this.progress = progress;
    }

    @Override
    public CompletionStage<FileTransfer> getBody() {
        return CompletableFuture.completedStage(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        try {
            for (ByteBuffer b : items) {
                while (b.hasRemaining()) position += out.write(b, position);
            }
        } catch (IOException e) {
            subscription.cancel();
            done.completeExceptionally(e);
            return;
        }
        lastData = System.nanoTime();
        progress.accept(position);
        subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
        done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        done.complete(position);
    }

    /**
     * Waits for the body's end; returns the file position reached.
     *
     * @throws IOException when the connection failed, or no data came for stall
     */
    long await(Duration stall) throws IOException, InterruptedException {
        long stallNanos = stall.toNanos();
        while (true) {
            try {
                return done.get(Math.min(stallNanos, 1_000_000_000L), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                if (System.nanoTime() - lastData > stallNanos) {
                    Flow.Subscription s = subscription;
                    if (s != null) s.cancel();
                    throw new IOException(String.format(java.util.Locale.ROOT, "no data for %.1f s", stall.toMillis() / 1000.0));
                }
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof IOException io ? io : new IOException(c.getMessage(), c);
            } catch (InterruptedException e) {
                Flow.Subscription s = subscription;
                if (s != null) s.cancel();
                throw e;
            }
        }
    }
}
