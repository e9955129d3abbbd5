package io.github.mobilellm4j.convert.torch;

import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.SourceTensor;
import io.github.mobilellm4j.convert.hf.WeightSet;
import io.github.mobilellm4j.convert.hf.WeightSets;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads a PyTorch zip checkpoint (torch.save, format of torch >= 1.6): {prefix}/data.pkl holding
 * the state dict, {prefix}/data/{key} holding each storage's raw little-endian bytes.
 * Only contiguous tensors are accepted; storage offsets are honoured.
 */
public final class TorchCheckpointReader {
    private TorchCheckpointReader() {}

    public static WeightSet open(Path file) throws ConversionException {
        WeightSet ws = new WeightSet(Arena.ofShared());
        try {
            read(file, ws);
            return ws;
        } catch (ConversionException | RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    /** Adds the tensors of a torch zip checkpoint to ws. */
    public static void read(Path file, WeightSet ws) throws ConversionException {
        ZipArchive zip = ZipArchive.open(file);
        WeightSets.addFile(ws, file);
        ZipArchive.Entry pkl = null;
        for (ZipArchive.Entry e : zip.entries().values()) {
            String n = e.name();
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                pkl = e;
                break;
            }
        }
        if (pkl == null) {
            throw new ConversionException(file, "not a PyTorch zip checkpoint (no <name>/data.pkl entry; legacy non-zip torch files are not supported)");
        }
        String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
        ZipArchive.Entry bo = zip.entries().get(prefix + "byteorder");
        if (bo != null) {
            String order = new String(zip.readSmall(bo, 64), StandardCharsets.US_ASCII).trim();
            if (!order.equals("little")) throw new ConversionException(file, "unsupported byte order '" + order + "'");
        }
        Map<Object, Object> dict = TorchUnpickler.load(file, zip.readSmall(pkl, 256 << 20));
        for (Map.Entry<Object, Object> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) throw new ConversionException(file, "state dict has a non-string key");
            if (!(e.getValue() instanceof TorchUnpickler.TensorRef t)) {
                throw new ConversionException(file, "state dict entry " + name + " is not a tensor");
            }
            ZipArchive.Entry data = zip.entries().get(prefix + "data/" + t.storage().key());
            if (data == null) throw new ConversionException(file, "storage " + t.storage().key() + " of tensor " + name + " is missing from the archive");
            int es = t.storage().dtype().size;
            if (data.size() != t.storage().numel() * es) {
                throw new ConversionException(file, "storage " + t.storage().key() + " has " + data.size() + " bytes, expected " + t.storage().numel() * es);
            }
            long[] size = t.size();
            long[] stride = t.stride();
            if (size.length != stride.length) throw new ConversionException(file, "tensor " + name + ": size and stride differ in length");
            long numel = 1;
            long expect = 1;
            for (int i = size.length - 1; i >= 0; i--) {
                if (size[i] < 0) throw new ConversionException(file, "tensor " + name + " has a negative size");
                if (size[i] != 1 && stride[i] != expect) {
                    throw new ConversionException(file, "tensor " + name + " is not contiguous (stride " + java.util.Arrays.toString(stride) + " for size " + java.util.Arrays.toString(size) + ")");
                }
                expect *= size[i];
                numel *= size[i];
            }
            long off = t.storageOffset();
            if (off < 0 || off + numel > t.storage().numel()) {
                throw new ConversionException(file, "tensor " + name + " exceeds its storage (offset " + off + ", " + numel + " elements, storage " + t.storage().numel() + ")");
            }
            long byteOff = off * es;
            long bytes = numel * es;
            SourceTensor st = new SourceTensor(name, t.storage().dtype(), size, file,
                    arena -> {
                        MemorySegment all = zip.data(data, arena);
                        return all.asSlice(byteOff, bytes);
                    });
            if (!WeightSets.add(ws, st)) throw new ConversionException(file, "tensor " + name + " appears in more than one file");
        }
    }
}
