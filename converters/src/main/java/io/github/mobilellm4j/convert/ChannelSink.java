package io.github.mobilellm4j.convert;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/** Buffered little-endian writer over a FileChannel, with a MemorySegment view for quantizers. */
public final class ChannelSink {
    private final FileChannel channel;
    private final ByteBuffer buf;
    private final MemorySegment seg;
    private long written;

    public ChannelSink(FileChannel channel, int bufferSize) {
        this.channel = channel;
        this.buf = ByteBuffer.allocateDirect(bufferSize).order(ByteOrder.LITTLE_ENDIAN);
        this.seg = MemorySegment.ofBuffer(buf);
    }

    /** Total bytes accepted so far. */
    public long position() {
        return written + buf.position();
    }

    /**
     * Reserves n bytes in the buffer and returns their offset in {@link #segment()}; the caller
     * fills exactly those bytes before the next call.
     */
    public long reserve(int n) throws IOException {
        if (n > buf.capacity()) throw new IllegalArgumentException("reservation larger than buffer: " + n);
        if (buf.remaining() < n) flush();
        int p = buf.position();
        buf.position(p + n);
        return p;
    }

    public MemorySegment segment() {
        return seg;
    }

    public void u8(int v) throws IOException { seg.set(ValueLayout.JAVA_BYTE, reserve(1), (byte) v); }
    public void u16(int v) throws IOException { seg.set(RowQuantizer.LE_SHORT, reserve(2), (short) v); }
    public void u32(long v) throws IOException { seg.set(RowQuantizer.LE_INT, reserve(4), (int) v); }
    public void u64(long v) throws IOException {
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), reserve(8), v);
    }
    public void f32(float v) throws IOException { seg.set(RowQuantizer.LE_FLOAT, reserve(4), v); }
    public void f64(double v) throws IOException {
        seg.set(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), reserve(8), v);
    }

    public void bytes(byte[] b) throws IOException {
        int off = 0;
        while (off < b.length) {
            if (!buf.hasRemaining()) flush();
            int n = Math.min(buf.remaining(), b.length - off);
            buf.put(b, off, n);
            off += n;
        }
    }

    /** Copies len bytes of src starting at off. */
    public void copy(MemorySegment src, long off, long len) throws IOException {
        long done = 0;
        while (done < len) {
            if (!buf.hasRemaining()) flush();
            int n = (int) Math.min(buf.remaining(), len - done);
            int p = buf.position();
            MemorySegment.copy(src, off + done, seg, p, n);
            buf.position(p + n);
            done += n;
        }
    }

    /** GGUF string: u64 length + UTF-8 bytes. */
    public void ggufString(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        bytes(b);
    }

    public void zeros(long n) throws IOException {
        for (long i = 0; i < n; i++) u8(0);
    }

    public void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            written += channel.write(buf);
        }
        buf.clear();
    }
}
