package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Batch}: one pass over several sessions gives each the logits its own eval gives, and greedy decoding
 * of several sequences in batches produces the tokens each produces alone (a session evaluating one token at
 * a time).
 */
class BatchTest extends ReferenceModelFixture {
    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    static int[] alone(int[] p, int n) {
        int[] out = new int[n];
        try (Session s = model.newSession()) {
            float[] lg = s.eval(p).toArray(0);
            for (int g = 0; g < n; g++) {
                out[g] = argmax(lg);
                lg = s.eval(out[g]).toArray(0);
            }
        }
        return out;
    }

    @Test
    void batchedGreedyDecodingEqualsEachSequenceAlone() {
        int n = 12;
        List<int[]> prompts = List.of(prompt, Arrays.copyOf(prompt, 3), Arrays.copyOfRange(prompt, 2, prompt.length));
        List<Session> sessions = new ArrayList<>();
        int[][] got = new int[prompts.size()][n];
        try (Batch batch = Batch.create(model, 256, prompts.size())) {
            for (int[] p : prompts) {
                Session s = model.newSession();
                sessions.add(s);
                batch.add(s, p, true);
            }
            batch.decode();
            for (int g = 0; g < n; g++) {
                for (int i = 0; i < sessions.size(); i++) got[i][g] = argmax(sessions.get(i).logits().toArray(0));
                for (int i = 0; i < sessions.size(); i++) batch.add(sessions.get(i), new int[] {got[i][g]}, true);
                batch.decode();
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(got[i]).as("sequence %d", i).isEqualTo(alone(prompts.get(i), n));
                assertThat(sessions.get(i).position()).isEqualTo(prompts.get(i).length + n);
            }
        } finally {
            sessions.forEach(Session::close);
        }
    }

    @Test
    void rowsMatchSeparateEvals() {
        try (Session a = model.newSession(); Session b = model.newSession(); Session ra = model.newSession();
                Session rb = model.newSession(); Batch batch = Batch.create(model, 64, 2)) {
            b.prefill(1, 2, 3);
            rb.prefill(1, 2, 3);
            batch.add(a, prompt, true).add(b, new int[] {9}, true);
            batch.decode();
            float[] la = a.logits().toArray(0), lra = ra.eval(prompt).toArray(0);
            float[] lb = b.logits().toArray(0), lrb = rb.eval(9).toArray(0);
            // same kernels; a matmul over more rows may sum in another order: f32 reordering is ~1e-6 here
            for (int i = 0; i < la.length; i++) {
                assertThat((double) la[i]).isCloseTo(lra[i], org.assertj.core.data.Offset.offset(1e-4));
                assertThat((double) lb[i]).isCloseTo(lrb[i], org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    @Test
    void misuseThrows() {
        try (Session s = model.newSession(); Batch batch = Batch.create(model, 4, 2)) {
            assertThatThrownBy(() -> batch.add(s, new int[] {1, 2, 3, 4, 5}, true)).isInstanceOf(MobileLlmException.class);
            batch.add(s, new int[] {1}, true);
            assertThatThrownBy(() -> batch.add(s, new int[] {2}, true)).isInstanceOf(MobileLlmException.class)
                    .hasMessageContaining("already");
            assertThatThrownBy(() -> batch.add(s, new int[0], true)).isInstanceOf(IllegalArgumentException.class);
            batch.clear();
            assertThat(s.position()).isZero();
        }
        assertThatThrownBy(() -> Batch.create(model, 0, 1)).isInstanceOf(MobileLlmException.class)
                .hasMessageContaining("max_tokens");
    }
}
