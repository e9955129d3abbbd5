package io.github.mobilellm4j.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SuitePartsTest {
    @Test
    void threadsParameter() {
        assertEquals(0, BenchParams.parseThreads("all"));
        assertEquals(0, BenchParams.parseThreads(" ALL "));
        assertEquals(4, BenchParams.parseThreads("4"));
        assertThrows(IllegalArgumentException.class, () -> BenchParams.parseThreads("-1"));
        assertThrows(NumberFormatException.class, () -> BenchParams.parseThreads("many"));
    }

    @Test
    void shapesAndTypesResolve() {
        assertEquals(30, BenchModels.shape("125M").layers());
        assertEquals(1600, BenchModels.shape("1.5B").dim());
        assertEquals("q4_0", BenchModels.type("Q4_0").lowerName());
        assertEquals("1_5b", BenchModels.fileLabel(BenchModels.shape("1.5B")));
        assertThrows(IllegalArgumentException.class, () -> BenchModels.shape("7B"));
    }

    @Test
    void sampleTextIsDeterministicAndSized() {
        String a = SampleText.generate(8192, 1);
        assertEquals(a, SampleText.generate(8192, 1));
        int bytes = a.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(bytes >= 8192 && bytes < 8192 + 1024, "size " + bytes);
        assertTrue(a.chars().anyMatch(c -> c > 127), "some non-ASCII text");
    }

    @Test
    void tokenIdsAvoidControlAndByteTokens() {
        int[] ids = BenchDefaults.tokens(1000, 32000, 7);
        for (int id : ids) assertTrue(id >= 259 && id < 32000, "id " + id);
        assertEquals(ids[10], BenchDefaults.tokens(1000, 32000, 7)[10]);
    }
}
