package io.github.mobilellm4j;

import static io.github.mobilellm4j.bindings.mobilellm_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Turns tokens into text one at a time, never splitting a UTF-8 character. One thread at a time, but any
 * thread: its buffer lives in a shared arena, so a stream made on one thread can be consumed on another.
 */
final class StreamingDetokenizer implements AutoCloseable {
    private static final int BUF = 256;
    private final Model model;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private MemorySegment buf;

    StreamingDetokenizer(Model model, boolean stripLeadingSpace) {
        this.model = model;
        this.handle = model.withHandle(h -> {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(mllm_detokenizer_create(h, stripLeadingSpace ? 1 : 0, out), "detokenizer");
            return out.get(ValueLayout.ADDRESS, 0);
        });
        this.buf = arena.allocate(BUF);
    }

    /** The text completed by this token (often the token's piece; empty inside a character). */
    String push(int token) {
        int n = mllm_detokenizer_push(handle, token, buf, (int) buf.byteSize());
        if (n < 0 && n != Integer.MIN_VALUE) {
            buf = arena.allocate(-n);
            n = mllm_detokenizer_push(handle, token, buf, (int) buf.byteSize());
        }
        if (n < 0) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "detokenize token " + token);
        return n == 0 ? "" : new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** Whatever is still held (an incomplete character becomes U+FFFD). */
    String flush() {
        int n = mllm_detokenizer_flush(handle, buf, (int) buf.byteSize());
        if (n < 0 && n != Integer.MIN_VALUE) {
            buf = arena.allocate(-n);
            n = mllm_detokenizer_flush(handle, buf, (int) buf.byteSize());
        }
        if (n < 0) throw Native.error(MLLM_ERR_INVALID_ARGUMENT(), "detokenizer flush");
        return n == 0 ? "" : new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        mllm_detokenizer_free(handle);
        arena.close();
    }
}
