package io.github.mobilellm4j.jmh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Text for the tokenizer benchmark: deterministic pseudo-English prose (sentences of common words with
 * punctuation, numbers and paragraphs, about 1% non-ASCII words so that byte fallback runs too), or the
 * contents of the file named by the system property {@value #TEXT_PROPERTY}.
 */
public final class SampleText {
    public static final String TEXT_PROPERTY = "mobilellm.bench.text";

    private static final String[] WORDS = ("the of and to in is that it was for on are with as his they be at one "
            + "have this from or had by word but what some we can out other were all there when up use your how said "
            + "an each she which do their time if will way about many then them write would like so these her long "
            + "make thing see him two has look more day could go come did number sound no most people my over know "
            + "water than call first who may down side been now find any new work part take get place made live "
            + "where after back little only round man year came show every good me give our under name very through "
            + "just form sentence great think say help low line differ turn cause much mean before move right boy old "
            + "too same tell does set three want air well also play small end put home read hand port large spell "
            + "add even land here must big high such follow act why ask men change went light kind off need house "
            + "picture try us again animal point mother world near build self earth father model memory session "
            + "thread engine kernel matrix vector token layer weight cache batch prompt decode sample benchmark "
            + "throughput latency processor library machine").split(" ");

    private static final String[] RARE = {"café", "naïve", "Zürich", "façade", "smörgåsbord", "東京", "データ", "Ωmega",
        "π≈3.14159", "🙂", "👍🏽", "—", "«quoted»", "résumé"};

    private SampleText() {
    }

    /** About {@code bytes} bytes of UTF-8 text (whole sentences; the given file when the property is set). */
    public static String text(int bytes) {
        String file = System.getProperty(TEXT_PROPERTY);
        if (file != null && !file.isBlank()) {
            try {
                return Files.readString(Path.of(file));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + TEXT_PROPERTY + " file " + file, e);
            }
        }
        return generate(bytes, 42);
    }

    static String generate(int bytes, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(bytes + 256);
        int utf8 = 0;
        int sentencesInParagraph = 0;
        while (utf8 < bytes) {
            int start = sb.length();
            int words = 6 + rnd.nextInt(15);
            for (int w = 0; w < words; w++) {
                String word;
                int pick = rnd.nextInt(100);
                if (pick == 0) {
                    word = RARE[rnd.nextInt(RARE.length)];
                } else if (pick < 3) {
                    word = Integer.toString(rnd.nextInt(pick == 1 ? 100 : 100000));
                } else {
                    // Zipf-like: low indexes (frequent words) come up more often
                    int i = (int) (WORDS.length * Math.pow(rnd.nextDouble(), 2.2));
                    word = WORDS[Math.min(i, WORDS.length - 1)];
                }
                if (w == 0) word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                sb.append(word);
                if (w + 1 < words) sb.append(rnd.nextInt(12) == 0 ? ", " : " ");
            }
            sb.append(switch (rnd.nextInt(10)) {
                case 0 -> '?';
                case 1 -> '!';
                default -> '.';
            });
            if (++sentencesInParagraph >= 3 + rnd.nextInt(5)) {
                sb.append("\n\n");
                sentencesInParagraph = 0;
            } else {
                sb.append(' ');
            }
            utf8 += utf8Length(sb, start);
        }
        return sb.toString();
    }

    private static int utf8Length(CharSequence s, int from) {
        int n = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n += 1;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }
}
