package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.MobileLlmException.Status;
import io.github.mobilellm4j.bindings.mobilellm_h;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The public value types and status codes agree with the engine and cannot be changed by callers. */
class SurfaceTest {
    @Test
    void everyEngineStatusHasItsJavaConstantAndBack() {
        Native.ensureLoaded();
        Set<Status> seen = EnumSet.noneOf(Status.class);
        // the engine's codes are small positive numbers; 256 covers any it could add
        for (int code = 1; code < 256; code++) {
            String name = Native.string(mobilellm_h.mllm_status_name(code));
            if (name.equals("MLLM_ERR_UNKNOWN")) continue;
            Status s = Status.ofEngineName(name);
            assertThat(s).as("engine status %d (%s)", code, name).isNotEqualTo(Status.UNKNOWN);
            assertThat(seen.add(s)).as("two engine codes map to %s", s).isTrue();
        }
        assertThat(seen).containsExactlyInAnyOrder(EnumSet.complementOf(EnumSet.of(Status.UNKNOWN)).toArray(Status[]::new));
        assertThat(Native.error(mobilellm_h.MLLM_ERR_CONTEXT_FULL(), "x").status()).isEqualTo(Status.CONTEXT_FULL);
        assertThat(Native.error(9999, "x").status()).isEqualTo(Status.UNKNOWN);
    }

    @Test
    void tensorInfoShapeCannotBeChangedThroughTheRecord() {
        List<Long> dims = new ArrayList<>(List.of(576L, 32000L));
        TensorInfo t = new TensorInfo("token_embd.weight", "q8_0", dims, 0, 1);
        dims.set(0, 1L);
        assertThatThrownBy(() -> t.shape().set(1, 2L)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(t.shape()).containsExactly(576L, 32000L);
        assertThat(t).isEqualTo(new TensorInfo("token_embd.weight", "q8_0", List.of(576L, 32000L), 0, 1));
        assertThat(t).hasSameHashCodeAs(new TensorInfo("token_embd.weight", "q8_0", List.of(576L, 32000L), 0, 1));
        assertThat(t.toString()).contains("[576, 32000]");
    }
}
