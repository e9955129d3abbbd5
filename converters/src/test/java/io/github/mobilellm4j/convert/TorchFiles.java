package io.github.mobilellm4j.convert;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builds PyTorch zip checkpoints for tests: the pickle is assembled opcode by opcode following
 * the pickle protocol 2 specification (as torch.save emits it), the zip by java.util.zip.
 */
final class TorchFiles {
    private TorchFiles() {}

    /** A tensor view on a storage: storage index, element offset, size, stride. */
    record View(String name, int storage, long offset, long[] size, long[] stride) {}

    /** Pickle opcode writer. */
    static final class Pickle {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Pickle op(int... bytes) {
            for (int x : bytes) b.write(x);
            return this;
        }

        Pickle str(String s) { // BINUNICODE
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op(0x58);
            i32raw(u.length);
            b.writeBytes(u);
            return this;
        }

        Pickle shortStr(String s) { // SHORT_BINUNICODE
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op(0x8c, u.length);
            b.writeBytes(u);
            return this;
        }

        Pickle global(String module, String name) { // GLOBAL
            op(0x63);
            b.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle i32raw(int v) {
            op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
            return this;
        }

        Pickle integer(long v) { // BININT1 / BININT2 / BININT / LONG1 as the spec's pickler chooses
            if (v >= 0 && v < 256) return op(0x4b, (int) v);
            if (v >= 0 && v < 65536) return op(0x4d, (int) (v & 0xff), (int) (v >>> 8));
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) return op(0x4a).i32raw((int) v);
            op(0x8a, 8);
            for (int i = 0; i < 8; i++) op((int) (v >>> (8 * i)) & 0xff);
            return this;
        }

        /** As CPython's protocol-2 pickler: EMPTY_TUPLE, TUPLE1/2/3 for short tuples, else MARK..TUPLE. */
        Pickle tuple(long... v) {
            if (v.length == 0) return op(0x29);
            if (v.length > 3) op(0x28);
            for (long x : v) integer(x);
            return op(v.length > 3 ? 0x74 : 0x84 + v.length);
        }

        byte[] bytes() {
            return b.toByteArray();
        }
    }

    /** Standard state-dict pickle for the views; storages of the given dtype class and numel. */
    static byte[] statePickle(List<View> views, String storageClass, long[] storageNumel, boolean forbidden) {
        Pickle p = new Pickle();
        p.op(0x80, 2);
        p.global("collections", "OrderedDict").op(0x71, 0).op(0x29).op(0x52).op(0x71, 1);
        p.op(0x28); // MARK for SETITEMS
        boolean first = true;
        for (View v : views) {
            p.str(v.name);
            if (first) {
                p.global("torch._utils", "_rebuild_tensor_v2").op(0x71, 2);
                first = false;
            } else {
                p.op(0x68, 2); // BINGET 2
            }
            p.op(0x28); // MARK args
            p.op(0x28).shortStr("storage");
            if (forbidden) p.global("os", "system"); else p.global("torch", storageClass);
            p.str(Integer.toString(v.storage)).str("cpu").integer(storageNumel[v.storage]).op(0x74); // TUPLE
            p.op(0x51); // BINPERSID
            p.integer(v.offset);
            p.tuple(v.size);
            p.tuple(v.stride);
            p.op(0x89); // NEWFALSE
            p.op(0x68, 0).op(0x29).op(0x52); // OrderedDict() backward hooks
            p.op(0x74).op(0x52); // TUPLE, REDUCE
        }
        p.op(0x75); // SETITEMS
        // state dicts carry _metadata via BUILD on the OrderedDict
        p.op(0x7d).shortStr("_metadata").op(0x7d).op(0x73).op(0x62);
        p.op(0x2e);
        return p.bytes();
    }

    /** Writes archive/data.pkl, archive/byteorder and archive/data/N entries. */
    static void zip(Path file, byte[] pickle, List<byte[]> storages, boolean deflate) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
            put(z, "archive/data.pkl", pickle, deflate);
            put(z, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII), deflate);
            for (int i = 0; i < storages.size(); i++) put(z, "archive/data/" + i, storages.get(i), deflate);
            put(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), deflate);
        }
    }

    private static void put(ZipOutputStream z, String name, byte[] data, boolean deflate) throws IOException {
        ZipEntry e = new ZipEntry(name);
        if (!deflate) {
            e.setMethod(ZipEntry.STORED);
            e.setSize(data.length);
            e.setCompressedSize(data.length);
            CRC32 c = new CRC32();
            c.update(data);
            e.setCrc(c.getValue());
        } else {
            e.setMethod(ZipEntry.DEFLATED);
        }
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    /** A checkpoint with one storage per tensor (contiguous, offset 0). */
    static void checkpoint(Path file, List<TestFiles.Raw> tensors, boolean deflate) throws IOException {
        List<View> views = new ArrayList<>();
        List<byte[]> storages = new ArrayList<>();
        long[] numel = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            TestFiles.Raw t = tensors.get(i);
            views.add(new View(t.name(), i, 0, t.shape(), contiguous(t.shape())));
            storages.add(t.data());
            numel[i] = t.data().length / 2;
        }
        zip(file, statePickle(views, "BFloat16Storage", numel, false), storages, deflate);
    }

    static long[] contiguous(long[] size) {
        long[] s = new long[size.length];
        long acc = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= size[i];
        }
        return s;
    }
}
