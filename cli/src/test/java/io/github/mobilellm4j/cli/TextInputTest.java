package io.github.mobilellm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mobilellm4j.cli.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -f FILE reads a text file and -f - standard input, in every command that takes text: the same result as -p. */
class TextInputTest {
    static final String TEXT = "This License applies to any program\nor other work.";
    static String model;
    @TempDir
    static Path dir;
    static String file;

    @BeforeAll
    static void setUp() throws Exception {
        model = Cli.model().toString();
        file = Files.writeString(dir.resolve("text.txt"), TEXT).toString();
    }

    @Test
    void generate() throws Exception {
        String[] common = {"generate", "-m", model, "-n", "6", "--greedy", "--ignore-eos", "--json"};
        Result p = Cli.run(with(common, "-p", TEXT));
        Result f = Cli.run(with(common, "-f", file));
        Result stdin = Cli.runWith(TEXT, false, with(common, "-f", "-"));
        Result longName = Cli.runWith(TEXT, false, with(common, "--file=-"));
        assertThat(p.code()).as(p.err()).isZero();
        for (Result r : new Result[] {f, stdin, longName}) {
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.json().get("prompt_tokens")).isEqualTo(p.json().get("prompt_tokens"));
            assertThat(r.json().get("tokens")).isEqualTo(p.json().get("tokens"));
        }
    }

    @Test
    void tokenizeAndEmbed() throws Exception {
        for (String command : new String[] {"tokenize", "embed"}) {
            String[] common = {command, "-m", model, "--json"};
            Result p = Cli.run(with(common, "-p", TEXT));
            assertThat(p.code()).as(p.err()).isZero();
            for (Result r : new Result[] {Cli.run(with(common, "-f", file)), Cli.runWith(TEXT, false, with(common, "-f", "-"))}) {
                assertThat(r.code()).as(command + ": " + r.err()).isZero();
                assertThat(r.out()).isEqualTo(p.out());
            }
        }
        Result oldName = Cli.run("tokenize", "-m", model, "--text-file", file, "--json");
        assertThat(oldName.out()).isEqualTo(Cli.run("tokenize", "-m", model, "-p", TEXT, "--json").out());
    }

    @Test
    void perplexity() throws Exception {
        String text = Files.readString(Cli.root().resolve("reference/corpus/MPL-2.0"));
        String[] common = {"perplexity", "-m", model, "--ctx", "64", "--json"};
        Result f = Cli.run(with(common, "-f", Cli.root().resolve("reference/corpus/MPL-2.0").toString()));
        Result stdin = Cli.runWith(text, false, with(common, "-f", "-"));
        assertThat(f.code()).as(f.err()).isZero();
        assertThat(stdin.code()).as(stdin.err()).isZero();
        assertThat(stdin.out()).isEqualTo(f.out());
    }

    @Test
    void unreadableText() throws Exception {
        Path latin1 = Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});
        Result r = Cli.run("tokenize", "-m", model, "-f", latin1.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("mobilellm tokenize: " + latin1 + " is not UTF-8 text\n");
        Result folder = Cli.run("embed", "-m", model, "-f", dir.toString());
        assertThat(folder.code()).isEqualTo(1);
        assertThat(folder.err()).isEqualTo("mobilellm embed: " + dir + " is a folder, not a text file\n");
    }

    static String[] with(String[] common, String... more) {
        String[] all = new String[common.length + more.length];
        System.arraycopy(common, 0, all, 0, common.length);
        System.arraycopy(more, 0, all, common.length, more.length);
        return all;
    }
}
