package io.github.mobilellm4j.convert.torch;

import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.safetensors.SafetensorsReader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Minimal memory-mapped ZIP reader (as written by torch.save): central directory incl. ZIP64,
 * stored and deflated entries. Stored entries are returned as slices of the mapping.
 */
public final class ZipArchive {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A file entry: method 0 (stored) or 8 (deflate); dataOffset is absolute. */
    public record Entry(String name, int method, long compressedSize, long size, long crc, long dataOffset) {}

    private final Path path;
    private final Map<String, Entry> entries;

    private ZipArchive(Path path, Map<String, Entry> entries) {
        this.path = path;
        this.entries = entries;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Path path() {
        return path;
    }

    /**
     * Reads the central directory (the file is mapped only while doing so). Entry data is mapped
     * or inflated on demand by {@link #data}.
     */
    public static ZipArchive open(Path path) throws ConversionException {
        try (Arena arena = Arena.ofConfined()) {
            return readDirectory(path, arena);
        }
    }

    private static ZipArchive readDirectory(Path path, Arena arena) throws ConversionException {
        MemorySegment f;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 22) throw new ConversionException(path, "not a zip file (too short)");
            f = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new ConversionException(path, "cannot read: " + e.getMessage(), e);
        }
        long size = f.byteSize();
        long eocd = -1;
        for (long p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
            if (f.get(I32, p) == 0x06054b50) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) throw new ConversionException(path, "corrupt zip: end of central directory not found");
        long count = f.get(I16, eocd + 10) & 0xffff;
        long cdSize = f.get(I32, eocd + 12) & 0xffffffffL;
        long cdOff = f.get(I32, eocd + 16) & 0xffffffffL;
        if (count == 0xffff || cdSize == 0xffffffffL || cdOff == 0xffffffffL) {
            long loc = eocd - 20;
            if (loc < 0 || f.get(I32, loc) != 0x07064b50) throw new ConversionException(path, "corrupt zip: ZIP64 locator missing");
            long e64 = f.get(I64, loc + 8);
            if (e64 < 0 || e64 + 56 > size || f.get(I32, e64) != 0x06064b50) throw new ConversionException(path, "corrupt zip: bad ZIP64 end record");
            count = f.get(I64, e64 + 32);
            cdSize = f.get(I64, e64 + 40);
            cdOff = f.get(I64, e64 + 48);
        }
        if (cdOff < 0 || cdSize < 0 || cdOff + cdSize > size || count < 0 || count > 1_000_000) {
            throw new ConversionException(path, "corrupt zip: central directory out of range");
        }
        Map<String, Entry> map = new LinkedHashMap<>();
        long p = cdOff;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cdOff + cdSize || f.get(I32, p) != 0x02014b50) throw new ConversionException(path, "corrupt zip: bad central directory entry");
            int flags = f.get(I16, p + 8) & 0xffff;
            int method = f.get(I16, p + 10) & 0xffff;
            long crc = f.get(I32, p + 16) & 0xffffffffL;
            long csize = f.get(I32, p + 20) & 0xffffffffL;
            long usize = f.get(I32, p + 24) & 0xffffffffL;
            int nlen = f.get(I16, p + 28) & 0xffff;
            int xlen = f.get(I16, p + 30) & 0xffff;
            int clen = f.get(I16, p + 32) & 0xffff;
            long lho = f.get(I32, p + 42) & 0xffffffffL;
            if (p + 46 + nlen + xlen + clen > cdOff + cdSize) throw new ConversionException(path, "corrupt zip: central directory entry overruns");
            String name = new String(f.asSlice(p + 46, nlen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            // ZIP64 extended information: the fields that were 0xffffffff, in order usize, csize, lho
            long x = p + 46 + nlen;
            long xend = x + xlen;
            while (x + 4 <= xend) {
                int id = f.get(I16, x) & 0xffff;
                int len = f.get(I16, x + 2) & 0xffff;
                if (x + 4 + len > xend) break;
                if (id == 0x0001) {
                    long q = x + 4;
                    if (usize == 0xffffffffL && q + 8 <= x + 4 + len) { usize = f.get(I64, q); q += 8; }
                    if (csize == 0xffffffffL && q + 8 <= x + 4 + len) { csize = f.get(I64, q); q += 8; }
                    if (lho == 0xffffffffL && q + 8 <= x + 4 + len) { lho = f.get(I64, q); }
                }
                x += 4 + len;
            }
            if ((flags & 1) != 0) throw new ConversionException(path, "zip entry " + name + " is encrypted");
            if (method != 0 && method != 8) throw new ConversionException(path, "zip entry " + name + " uses unsupported compression method " + method);
            if (lho < 0 || lho + 30 > size || f.get(I32, lho) != 0x04034b50) throw new ConversionException(path, "corrupt zip: bad local header of " + name);
            int lnlen = f.get(I16, lho + 26) & 0xffff;
            int lxlen = f.get(I16, lho + 28) & 0xffff;
            long data = lho + 30 + lnlen + lxlen;
            if (csize < 0 || usize < 0 || data + csize > size || data + csize < 0) throw new ConversionException(path, "truncated or corrupt zip: data of " + name + " extends past the end of the file");
            if (method == 0 && csize != usize) throw new ConversionException(path, "corrupt zip: stored entry " + name + " has differing sizes");
            map.put(name, new Entry(name, method, csize, usize, crc, data));
            p += 46 + nlen + xlen + clen;
        }
        return new ZipArchive(path, Collections.unmodifiableMap(map));
    }

    /**
     * The entry's bytes: a slice of the mapping for stored entries; for deflated ones, inflated
     * into memory allocated in arena and CRC-checked.
     */
    public MemorySegment data(Entry e, Arena arena) throws ConversionException {
        if (e.method() == 0) return SafetensorsReader.map(path, e.dataOffset(), e.compressedSize(), arena);
        MemorySegment out = arena.allocate(Math.max(1, e.size()));
        Inflater inf = new Inflater(true);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment raw = SafetensorsReader.map(path, e.dataOffset(), e.compressedSize(), tmp);
            inf.setInput(raw.asByteBuffer());
            ByteBuffer ob = out.asSlice(0, e.size()).asByteBuffer();
            CRC32 crc = new CRC32();
            while (ob.hasRemaining()) {
                int pos = ob.position();
                int n = inf.inflate(ob);
                if (n == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) break;
                crc.update(out.asSlice(pos, n).asByteBuffer());
            }
            if (ob.hasRemaining() || crc.getValue() != e.crc()) {
                throw new ConversionException(path, "corrupt zip: entry " + e.name() + " does not inflate to its recorded size and CRC");
            }
        } catch (DataFormatException ex) {
            throw new ConversionException(path, "corrupt zip: entry " + e.name() + " has invalid deflate data");
        } finally {
            inf.end();
        }
        return out.asSlice(0, e.size());
    }

    /** Reads a (small) entry fully onto the heap, checking its CRC. */
    public byte[] readSmall(Entry e, int limit) throws ConversionException {
        if (e.size() > limit) throw new ConversionException(path, "zip entry " + e.name() + " is unexpectedly large (" + e.size() + " bytes)");
        try (Arena a = Arena.ofConfined()) {
            byte[] b = data(e, a).toArray(ValueLayout.JAVA_BYTE);
            CRC32 crc = new CRC32();
            crc.update(b);
            if (crc.getValue() != e.crc()) throw new ConversionException(path, "corrupt zip: CRC mismatch in " + e.name());
            return b;
        }
    }
}
