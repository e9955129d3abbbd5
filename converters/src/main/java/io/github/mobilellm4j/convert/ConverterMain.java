package io.github.mobilellm4j.convert;

import java.nio.file.Path;

/**
 * Minimal command line for the converter module alone (the project's CLI module is the user
 * facing one):
 * <pre>
 *   synth SHAPE DIR [--layer-sharing] [--seed N]
 *   convert HF_DIR OUT.gguf [--type T] [--force] [--expand-layer-sharing] [--pure]
 *   quantize IN.gguf OUT.gguf --type T [--force] [--pure]
 * </pre>
 */
public final class ConverterMain {
    private ConverterMain() {}

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (ConversionException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args) throws ConversionException {
        if (args.length < 3) {
            System.err.println("usage: synth SHAPE DIR [--layer-sharing] [--seed N] | convert HF_DIR OUT [--type T] [--force] [--expand-layer-sharing] [--pure] | quantize IN OUT --type T [--force] [--pure]");
            return 2;
        }
        OutputType type = OutputType.F16;
        boolean force = false, expand = false, pure = false, ls = false;
        long seed = 42;
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--type" -> type = OutputType.parse(args[++i]);
                case "--force" -> force = true;
                case "--expand-layer-sharing" -> expand = true;
                case "--pure" -> pure = true;
                case "--layer-sharing" -> ls = true;
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        ConsoleProgress progress = new ConsoleProgress();
        switch (args[0]) {
            case "synth" -> SyntheticCheckpoint.write(Shape.preset(args[1]), ls, Path.of(args[2]), seed, force);
            case "convert" -> Converter.convert(Path.of(args[1]), Path.of(args[2]),
                    new ConvertOptions(type, force, expand, pure, progress));
            case "quantize" -> Quantizer.quantize(Path.of(args[1]), Path.of(args[2]), type, force, pure, progress);
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
        return 0;
    }
}
