package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sessions and models dropped without close() are freed by the garbage collector's Cleaner, with one warning
 * per kind; whatever order closes and collections come in, nothing is freed twice (a double free would crash
 * the JVM running these tests).
 */
class LeakSafetyNetTest {
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Logger log = Logger.getLogger("io.github.mobilellm4j");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            warnings.add(r.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void listen() {
        log.addHandler(capture);
    }

    @AfterEach
    void stop() {
        log.removeHandler(capture);
    }

    static Model load() {
        return ReferenceModelFixture.load(1);
    }

    /** Collects garbage until the condition holds, at most 20 s. */
    static boolean collectUntil(BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20);
        }
        return done.getAsBoolean();
    }

    static void dropSessions(Model m, int n) {
        int[] prompt = m.tokenizer().encode(ApiBehaviourTest.PROMPT);
        for (int i = 0; i < n; i++) m.newSession().eval(prompt);
    }

    @Test
    void droppedSessionsAreFreedWithOneWarning() throws InterruptedException {
        try (Model m = load()) {
            dropSessions(m, 3);
            try (Session kept = m.newSession()) {
                assertThat(collectUntil(() -> m.openSessionCount() == 1)).as("dropped sessions freed").isTrue();
                kept.eval(1, 2);
            }
            assertThat(m.openSessionCount()).isZero();
        }
        assertThat(Leaks.sessionRescued()).isTrue();
        // once per JVM, not per session (an earlier test class may have used up the one warning)
        assertThat(warnings.stream().filter(w -> w.contains("Session was not closed")).count()).isLessThanOrEqualTo(1);
    }

    @Test
    void aDroppedModelIsFreedAfterItsSessions() throws InterruptedException {
        java.lang.ref.WeakReference<Model> ref = dropModelWithSessions();
        assertThat(collectUntil(() -> ref.get() == null)).as("model collected").isTrue();
        assertThat(collectUntil(Leaks::modelRescued)).as("freed by the Cleaner, with the warning").isTrue();
    }

    private static java.lang.ref.WeakReference<Model> dropModelWithSessions() {
        Model m = load();
        dropSessions(m, 2);
        return new java.lang.ref.WeakReference<>(m);
    }

    @Test
    void closingInAnyOrderFreesOnce() throws InterruptedException {
        Model m = load();
        Session a = m.newSession();
        Session b = m.newSession();
        a.eval(1, 2, 3);
        m.close(); // frees both sessions
        assertThat(a.isClosed()).isTrue();
        assertThatThrownBy(() -> a.eval(4)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        a.close(); // after the model: nothing left to free
        a.close();
        m.close();
        java.lang.ref.WeakReference<Session> dropped = new java.lang.ref.WeakReference<>(b);
        b = null; // freed by the model's close already; its cleanup must not free it again
        assertThat(collectUntil(() -> dropped.get() == null)).isTrue();
    }
}
