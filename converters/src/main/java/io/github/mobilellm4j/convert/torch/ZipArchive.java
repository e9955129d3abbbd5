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

    /** The largest inflated entry: it is inflated into one buffer. */
    private static final long MAX_INFLATED = Integer.MAX_VALUE - 8;
    /** Deflate turns at most 258 bytes into 2 bits: no valid entry inflates by more than 1032 to 1. */
    private static final long DEFLATE_MAX_RATIO = 1032;

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
     * Reads the central directory with plain positional reads (no mapping). Entry data is mapped
     * or inflated on demand by {@link #data}.
     */
    public static ZipArchive open(Path path) throws ConversionException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return readDirectory(path, ch);
        } catch (IOException e) {
            throw ConversionException.io(path, "cannot read", e);
        }
    }

    private static ByteBuffer read(FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) throw new IOException("unexpected end of file");
        }
        return b.flip();
    }

    private static ZipArchive readDirectory(Path path, FileChannel ch) throws ConversionException, IOException {
        long size = ch.size();
        if (size < 22) throw new ConversionException(path, "corrupt zip: file too short for a zip archive");
        int tailLen = (int) Math.min(size, 22 + 65535 + 20);
        ByteBuffer tail = read(ch, size - tailLen, tailLen);
        int eocd = -1;
        for (int p = tailLen - 22; p >= 0; p--) {
            if (tail.getInt(p) == 0x06054b50) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) throw new ConversionException(path, "corrupt zip: end of central directory not found");
        long count = tail.getShort(eocd + 10) & 0xffff;
        long cdSize = tail.getInt(eocd + 12) & 0xffffffffL;
        long cdOff = tail.getInt(eocd + 16) & 0xffffffffL;
        if (count == 0xffff || cdSize == 0xffffffffL || cdOff == 0xffffffffL) {
            int loc = eocd - 20;
            if (loc < 0 || tail.getInt(loc) != 0x07064b50) throw new ConversionException(path, "corrupt zip: ZIP64 locator missing");
            long e64 = tail.getLong(loc + 8);
            if (e64 < 0 || e64 > size - 56) throw new ConversionException(path, "corrupt zip: bad ZIP64 end record");
            ByteBuffer r = read(ch, e64, 56);
            if (r.getInt(0) != 0x06064b50) throw new ConversionException(path, "corrupt zip: bad ZIP64 end record");
            count = r.getLong(32);
            cdSize = r.getLong(40);
            cdOff = r.getLong(48);
        }
        if (cdOff < 0 || cdSize < 0 || cdOff > size - cdSize || count < 0 || count > 1_000_000 || cdSize > (256 << 20)) {
            throw new ConversionException(path, "corrupt zip: central directory out of range");
        }
        ByteBuffer cd = read(ch, cdOff, (int) cdSize);
        Map<String, Entry> map = new LinkedHashMap<>();
        int p = 0;
        ByteBuffer lh = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
            if (p + 46 > cdSize || cd.getInt(p) != 0x02014b50) throw new ConversionException(path, "corrupt zip: bad central directory entry");
            int flags = cd.getShort(p + 8) & 0xffff;
            int method = cd.getShort(p + 10) & 0xffff;
            long crc = cd.getInt(p + 16) & 0xffffffffL;
            long csize = cd.getInt(p + 20) & 0xffffffffL;
            long usize = cd.getInt(p + 24) & 0xffffffffL;
            int nlen = cd.getShort(p + 28) & 0xffff;
            int xlen = cd.getShort(p + 30) & 0xffff;
            int clen = cd.getShort(p + 32) & 0xffff;
            long lho = cd.getInt(p + 42) & 0xffffffffL;
            if (p + 46L + nlen + xlen + clen > cdSize) throw new ConversionException(path, "corrupt zip: central directory entry overruns");
            byte[] nb = new byte[nlen];
            cd.get(p + 46, nb);
            String name = new String(nb, StandardCharsets.UTF_8);
            // ZIP64 extended information: the fields that were 0xffffffff, in order usize, csize, lho
            int x = p + 46 + nlen;
            int xend = x + xlen;
            while (x + 4 <= xend) {
                int id = cd.getShort(x) & 0xffff;
                int len = cd.getShort(x + 2) & 0xffff;
                if (x + 4 + len > xend) break;
                if (id == 0x0001) {
                    int q = x + 4;
                    if (usize == 0xffffffffL && q + 8 <= x + 4 + len) { usize = cd.getLong(q); q += 8; }
                    if (csize == 0xffffffffL && q + 8 <= x + 4 + len) { csize = cd.getLong(q); q += 8; }
                    if (lho == 0xffffffffL && q + 8 <= x + 4 + len) { lho = cd.getLong(q); }
                }
                x += 4 + len;
            }
            if ((flags & 1) != 0) throw new ConversionException(path, "zip entry " + name + " is encrypted");
            if (method != 0 && method != 8) throw new ConversionException(path, "zip entry " + name + " uses unsupported compression method " + method);
            if (lho < 0 || lho > size - 30) throw new ConversionException(path, "corrupt zip: bad local header of " + name);
            lh.clear();
            while (lh.hasRemaining()) {
                if (ch.read(lh, lho + lh.position()) < 0) throw new ConversionException(path, "corrupt zip: bad local header of " + name);
            }
            if (lh.getInt(0) != 0x04034b50) throw new ConversionException(path, "corrupt zip: bad local header of " + name);
            int lnlen = lh.getShort(26) & 0xffff;
            int lxlen = lh.getShort(28) & 0xffff;
            long data = lho + 30 + lnlen + lxlen;
            if (csize < 0 || usize < 0 || csize > size - data) throw new ConversionException(path, "truncated or corrupt zip: data of " + name + " extends past the end of the file");
            if (method == 0 && csize != usize) throw new ConversionException(path, "corrupt zip: stored entry " + name + " has differing sizes");
            if (method == 8 && usize > MAX_INFLATED) {
                throw new ConversionException(path, "zip entry " + name + " is deflated to " + usize
                        + " bytes; deflated entries above 2 GiB are not supported (torch.save stores its entries uncompressed)");
            }
            if (method == 8 && usize / DEFLATE_MAX_RATIO > csize) {
                throw new ConversionException(path, "corrupt zip: entry " + name + " claims " + usize + " bytes from "
                        + csize + " compressed bytes, beyond what deflate can encode");
            }
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
