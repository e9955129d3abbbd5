package io.github.mobilellm4j.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The seed is random unless given (as in llama.cpp), and readable so that a run can be repeated. */
class SamplerOptionsTest {
    @Test
    void withoutASeedEachOptionsObjectDrawsOne() {
        Set<Long> seeds = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            long seed = SamplerOptions.builder().build().seed();
            assertThat(seed).isBetween(0L, (1L << 32) - 1);
            seeds.add(seed);
        }
        // 8 draws from 2^32 seeds: all distinct except with probability about 28 / 2^32
        assertThat(seeds).hasSize(8);
    }

    @Test
    void aGivenSeedIsKept() {
        SamplerOptions.Builder b = SamplerOptions.builder().temperature(1.2f).seed(0);
        assertThat(b.build().seed()).isZero();
        assertThat(b.build().seed()).isZero();
        assertThat(SamplerOptions.builder().seed(-7).build().seed()).isEqualTo(-7);
    }
}
