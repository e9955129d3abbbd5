package io.github.mobilellm4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizedItemTest {
    @Test
    void aRequestKeepsItsTokensWhenTheCallersArrayChanges() {
        int[] context = {1, 2, 3};
        int[] continuation = {4, 5};
        TokenizedItem.Request r = new TokenizedItem.Request(context, continuation);
        context[0] = 99;
        continuation[1] = 99;
        assertThat(r.context()).containsExactly(1, 2, 3);
        assertThat(r.continuation()).containsExactly(4, 5);
        assertThat(r.contextTokens()).containsExactly(1, 2, 3);
        assertThat(r.continuationTokens()).containsExactly(4, 5);
    }

    @Test
    void changingAnAccessorsArrayLeavesTheRequestAsItWas() {
        TokenizedItem.Request r = new TokenizedItem.Request(new int[] {1, 2, 3}, new int[] {4, 5});
        r.context()[0] = 99;
        r.continuation()[0] = 99;
        assertThat(r.context()).containsExactly(1, 2, 3);
        assertThat(r.continuation()).containsExactly(4, 5);
    }

    @Test
    void requestsWithTheSameTokensAreEqual() {
        TokenizedItem.Request a = new TokenizedItem.Request(new int[] {1, 2}, new int[] {3});
        TokenizedItem.Request b = new TokenizedItem.Request(new int[] {1, 2}, new int[] {3});
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(new TokenizedItem.Request(new int[] {1, 2}, new int[] {4}));
        assertThat(a).isNotEqualTo(new TokenizedItem.Request(new int[] {1}, new int[] {2, 3}));
        assertThat(new TokenizedItem(List.of(a))).isEqualTo(new TokenizedItem(List.of(b)));
        assertThat(a.toString()).contains("[1, 2]").contains("[3]");
    }

    @Test
    void emptyTokensAreRefused() {
        assertThatThrownBy(() -> new TokenizedItem.Request(new int[0], new int[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("context");
        assertThatThrownBy(() -> new TokenizedItem.Request(new int[] {1}, new int[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("continuation");
    }

    @Test
    void theRequestListIsACopy() {
        List<TokenizedItem.Request> requests = new ArrayList<>();
        requests.add(new TokenizedItem.Request(new int[] {1}, new int[] {2}));
        TokenizedItem item = new TokenizedItem(requests);
        requests.clear();
        assertThat(item.requests()).hasSize(1);
        assertThatThrownBy(() -> item.requests().add(item.requests().get(0))).isInstanceOf(UnsupportedOperationException.class);
    }
}
