package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;
import io.github.mobilellm4j.convert.gguf.GgufValue;
import io.github.mobilellm4j.convert.gguf.GgufWriter;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Re-quantizes a GGUF file: F32/F16/BF16 tensors are converted with the same per-tensor policy
 * as {@link Converter}; tensors already block-quantized are copied unchanged (with a note). All
 * metadata is copied; general.file_type is updated. The K-quant mixes count attn_v / ffn_down
 * over all the file's tensors, copied ones included.
 */
public final class Quantizer {
    private Quantizer() {}

    public static void quantize(Path in, Path out, OutputType type, boolean force, ProgressListener listener) throws ConversionException {
        quantize(in, out, type, force, false, listener);
    }

    public static void quantize(Path in, Path out, OutputType type, boolean force, boolean pure, ProgressListener listener) throws ConversionException {
        ProgressListener pl = listener == null ? ProgressListener.SILENT : listener;
        AtomicOutput.checkTarget(out, force, List.of(in));
        try (GgufReader r = GgufReader.open(in)) {
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : r.metadata().entrySet()) {
                if (e.getKey().equals("general.alignment")) continue;
                w.put(e.getKey(), e.getValue());
            }
            w.put("general.file_type", GgufValue.u32(type.fileType));
            w.put("general.quantization_version", GgufValue.u32(2));
            TensorPolicy policy = TensorPolicy.forFile(type, pure, r.tensors().stream().map(GgufTensorInfo::name).toList());
            for (GgufTensorInfo ti : r.tensors()) {
                GgmlType src = ti.type();
                GgmlType dst;
                if (src == GgmlType.F32 || src == GgmlType.F16 || src == GgmlType.BF16) {
                    dst = policy.choose(ti.name(), ti.ne(), pl);
                } else {
                    dst = src;
                    pl.note(ti.name() + ": already " + src.lowerName() + ", copied unchanged");
                }
                long rows = ti.rows();
                int cols = (int) ti.ne()[0];
                GgmlType from = src;
                w.addTensor(ti.name(), dst, ti.ne(), sink -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment data = r.mapTensor(ti, a);
                        RowCopier.copy(sink, data, from, rows, cols, dst, null);
                    }
                });
            }
            w.write(out, force, List.of(in), pl);
        }
    }
}
