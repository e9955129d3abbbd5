package io.github.mobilellm4j.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.KvCacheType;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.ModelOptions;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The batched scorer gives each request the log-likelihood and greedy flag the one-at-a-time scorer gives: items
 * with 2 to 5 choices, groups that split across passes (3 requests a pass), contexts that share a start with the
 * previous item's, and a second call that reuses the contexts left in the sessions.
 */
class BatchedPrefixScorerTest {
    /** Rows of a batched pass are the same sums in another order (f32): about 1e-6 per token, far below this. */
    private static final double TOLERANCE = 1e-3;

    static EvalItem item(String context, String... choices) {
        List<EvalItem.Request> requests = new ArrayList<>();
        for (String c : choices) requests.add(new EvalItem.Request(context, c));
        return new EvalItem(requests, List.of(choices), 0);
    }

    /** One engine thread scores the rows on the calling thread, two on a pool of two. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void scoresAsTheOneAtATimeScorer(int threads) {
        try (Model model = Model.loadDemo(ModelOptions.builder().threads(threads).build())) {
            RequestEncoder encoder = new RequestEncoder(model);
            List<TokenizedItem> items = new ArrayList<>();
            for (EvalItem e : List.of(
                    item("Question: What is the colour of the sky?\nAnswer:", " blue", " green", " red"),
                    item("Question: What do bees make?\nAnswer:", " honey", " milk"),
                    item("The licence applies to", " every program", " no work", " some code",
                            " the Program and its derivatives", " you"),
                    item("Question: Which is a fruit?\nAnswer:", " apple", " stone", " chair", " cloud"))) {
                items.add(encoder.encode(e));
            }
            int maxLength = model.info().shape().contextLength();
            int longest = 1;
            for (TokenizedItem t : items) {
                for (TokenizedItem.Request r : t.requests()) longest = Math.max(longest, HarnessScoring.input(r, maxLength).length);
            }
            Loglikelihood[][] one;
            Loglikelihood[][] batched;
            Loglikelihood[][] again;
            try (SharedPrefixScorer a = new SharedPrefixScorer(model, maxLength, longest, KvCacheType.F32);
                    BatchedPrefixScorer b = new BatchedPrefixScorer(model, maxLength, longest, KvCacheType.F32, 3)) {
                one = a.score(items);
                batched = b.score(items);
                again = b.score(items.subList(1, 3));
            }
            for (int i = 0; i < items.size(); i++) {
                assertThat(batched[i]).hasSameSizeAs(one[i]);
                for (int r = 0; r < one[i].length; r++) {
                    assertThat(batched[i][r].value()).as("item %d request %d", i, r).isCloseTo(one[i][r].value(), Offset.offset(TOLERANCE));
                    assertThat(batched[i][r].greedy()).isEqualTo(one[i][r].greedy());
                }
            }
            for (int i = 0; i < again.length; i++) {
                for (int r = 0; r < again[i].length; r++) {
                    assertThat(again[i][r].value()).isCloseTo(one[i + 1][r].value(), Offset.offset(TOLERANCE));
                }
            }
        }
    }
}
