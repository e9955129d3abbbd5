package io.github.mobilellm4j.convert;

import java.util.Objects;

/**
 * Options of {@link Converter#convert}.
 *
 * @param type               output file type (default f16)
 * @param force              overwrite an existing output file
 * @param expandLayerSharing write a layer-sharing model as a plain llama file with each block duplicated
 * @param pure               every 2-D weight in the type's base type (no Q8_0 token_embd/output, no K-quant mix)
 * @param listener           progress/warnings receiver (never null; SILENT by default)
 * @param name               the model's name (GGUF general.name); null: the checkpoint folder's name
 */
public record ConvertOptions(OutputType type, boolean force, boolean expandLayerSharing, boolean pure,
                             ProgressListener listener, String name) {

    public ConvertOptions {
        Objects.requireNonNull(type, "type");
        if (listener == null) listener = ProgressListener.SILENT;
        if (name != null && name.isBlank()) throw new IllegalArgumentException("the model name is blank");
    }

    /** Options named after the checkpoint folder. */
    public ConvertOptions(OutputType type, boolean force, boolean expandLayerSharing, boolean pure, ProgressListener listener) {
        this(type, force, expandLayerSharing, pure, listener, null);
    }

    public static ConvertOptions defaults() {
        return new ConvertOptions(OutputType.F16, false, false, false, ProgressListener.SILENT, null);
    }

    public ConvertOptions withType(OutputType t) { return new ConvertOptions(t, force, expandLayerSharing, pure, listener, name); }
    public ConvertOptions withForce(boolean f) { return new ConvertOptions(type, f, expandLayerSharing, pure, listener, name); }
    public ConvertOptions withExpandLayerSharing(boolean e) { return new ConvertOptions(type, force, e, pure, listener, name); }
    public ConvertOptions withPure(boolean p) { return new ConvertOptions(type, force, expandLayerSharing, p, listener, name); }
    public ConvertOptions withListener(ProgressListener l) { return new ConvertOptions(type, force, expandLayerSharing, pure, l, name); }
    public ConvertOptions withName(String n) { return new ConvertOptions(type, force, expandLayerSharing, pure, listener, n); }
}
