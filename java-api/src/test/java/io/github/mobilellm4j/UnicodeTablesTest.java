package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The engine's Unicode class table (native/src/tokenizer/unicode_tables.c, generated from the
 * JDK's Unicode 16.0 data by native/tools/GenUnicodeTables.java) classifies every code point as
 * Hugging Face tokenizers' regex engine does (reference/tokenizer/unicode-classes.mjs).
 */
class UnicodeTablesTest {
    private static final Pattern RANGE = Pattern.compile("\\{0x([0-9A-F]+), 0x([0-9A-F]+), MLLM_UCAT_(\\w+)\\}");

    @Test
    void everyCodePointIsClassifiedAsTokenizersDoes() throws Exception {
        Path modules = TestFiles.npmModules();
        Path out = TestFiles.outDir().resolve("hf-unicode-classes.txt");
        TestFiles.run(TestFiles.outDir(), "node", TestFiles.repoRoot().resolve("reference/tokenizer/unicode-classes.mjs").toString(),
                modules.toString(), out.toString());
        Map<Integer, String> theirs = new TreeMap<>();
        for (String line : Files.readAllLines(out)) {
            String[] f = line.split(" ");
            theirs.put(Integer.parseInt(f[0], 16), f[1]);
        }
        Map<Integer, String> ours = new TreeMap<>();
        Matcher m = RANGE.matcher(Files.readString(TestFiles.repoRoot().resolve("native/src/tokenizer/unicode_tables.c")));
        while (m.find()) {
            for (int c = Integer.parseInt(m.group(1), 16); c <= Integer.parseInt(m.group(2), 16); c++) ours.put(c, m.group(3));
        }
        assertThat(ours).as("classified code points").hasSizeGreaterThan(140_000);
        List<String> diff = new ArrayList<>();
        for (int c = 0; c <= 0x10FFFF && diff.size() < 20; c++) {
            if (c >= 0xD800 && c <= 0xDFFF) continue;
            String a = ours.get(c), b = theirs.get(c);
            if (a == null ? b != null : !a.equals(b)) diff.add(String.format("U+%04X: table %s, tokenizers %s", c, a, b));
        }
        assertThat(diff).isEmpty();
    }
}
