package io.github.mobilellm4j.convert;

import java.util.List;
import java.util.Locale;

/**
 * Model dimensions. Presets are the published MobileLLM sizes (head dim 64, vocab 32000,
 * context 2048); tests may build small custom shapes.
 */
public record Shape(String name, int layers, int heads, int kvHeads, int dim, int ffn, int vocab, int context) {

    public static final Shape M125 = new Shape("125M", 30, 9, 3, 576, 1536, 32000, 2048);
    public static final Shape M350 = new Shape("350M", 32, 15, 5, 960, 2560, 32000, 2048);
    public static final Shape M600 = new Shape("600M", 40, 18, 6, 1152, 3072, 32000, 2048);
    public static final Shape B1 = new Shape("1B", 54, 20, 5, 1280, 3584, 32000, 2048);
    public static final Shape B1_5 = new Shape("1.5B", 54, 25, 5, 1600, 4352, 32000, 2048);

    public static List<Shape> presets() {
        return List.of(M125, M350, M600, B1, B1_5);
    }

    public Shape {
        if (layers <= 0 || heads <= 0 || kvHeads <= 0 || dim <= 0 || ffn <= 0 || vocab <= 0 || context <= 0) {
            throw new IllegalArgumentException("shape dimensions must be positive");
        }
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("dim must be a multiple of heads (even head dim) and heads a multiple of kv heads");
        }
    }

    public int headDim() {
        return dim / heads;
    }

    /** A preset by name ("125M", "350m", "1.5B", ...). */
    public static Shape preset(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        for (Shape s : presets()) if (s.name.equals(n)) return s;
        throw new IllegalArgumentException("unknown shape '" + name + "' (expected 125M, 350M, 600M, 1B or 1.5B)");
    }
}
