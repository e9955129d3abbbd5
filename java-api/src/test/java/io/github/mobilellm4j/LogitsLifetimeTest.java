package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Segments handed out by {@link Logits} are scoped to the eval that produced them: once the session evaluates
 * again, resets, truncates, scores, embeds or closes (or its model closes), reading a kept segment throws
 * IllegalStateException instead of reading memory the engine has reused or freed.
 */
class LogitsLifetimeTest extends ReferenceModelFixture {
    /** The segments a caller can keep: the whole buffer, a row, a read of the Logits object itself. */
    static List<Runnable> reads(Logits logits) {
        MemorySegment whole = logits.segment();
        MemorySegment row = logits.row(0);
        return List.of(() -> whole.get(ValueLayout.JAVA_FLOAT, 0), () -> row.get(ValueLayout.JAVA_FLOAT, 4),
                () -> logits.get(0, 1), () -> logits.toArray(0));
    }

    static void assertEpochEndsReads(Consumer<Session> endOfEpoch) {
        try (Session s = model.newSession()) {
            Logits logits = s.evalAll(prompt);
            List<Runnable> reads = reads(logits);
            reads.forEach(Runnable::run); // valid now
            endOfEpoch.accept(s);
            for (Runnable r : reads) assertThatThrownBy(r::run).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void keptSegmentsThrowAfterTheNextEval() {
        assertEpochEndsReads(s -> s.eval(7));
    }

    @Test
    void keptSegmentsThrowAfterResetTruncateScoreAndEmbed() {
        assertEpochEndsReads(Session::reset);
        assertEpochEndsReads(s -> s.truncate(1));
        assertEpochEndsReads(s -> s.score(new int[] {1, 5, 9}));
        assertEpochEndsReads(s -> s.embed(new int[] {1, 5}, Pooling.MEAN, true));
        assertEpochEndsReads(s -> s.generate(new int[] {1, 5}, ApiBehaviourTest.greedy(2), null));
    }

    @Test
    void keptSegmentsThrowAfterTheSessionOrModelCloses() {
        assertEpochEndsReads(Session::close);
        try (Model m = Model.load(model.path())) {
            Session s = m.newSession();
            Logits logits = s.eval(prompt);
            List<Runnable> reads = reads(logits);
            m.close();
            for (Runnable r : reads) assertThatThrownBy(r::run).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void segmentsStayReadOnlyAndMatchTheLogits() {
        try (Session s = model.newSession()) {
            Logits logits = s.evalAll(prompt);
            MemorySegment row = logits.row(prompt.length - 1);
            assertThat(row.byteSize()).isEqualTo(4L * model.info().vocabulary().size());
            assertThat(row.isReadOnly()).isTrue();
            assertThat(row.get(ValueLayout.JAVA_FLOAT, 4L * 3)).isEqualTo(logits.get(prompt.length - 1, 3));
            assertThat(s.logits().toArray(prompt.length - 1)).isEqualTo(logits.toArray(prompt.length - 1));
            assertThatThrownBy(() -> row.set(ValueLayout.JAVA_FLOAT, 0, 1f)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
