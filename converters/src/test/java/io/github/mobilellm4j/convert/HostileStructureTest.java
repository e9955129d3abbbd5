package io.github.mobilellm4j.convert;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.torch.TorchUnpickler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structures a hostile file can build cheaply but that would exhaust a naive reader: self-referencing and
 * deeply nested pickle objects (a StackOverflowError when hashed or printed), lengths and offsets chosen so
 * that a sum overflows. Each must end in a ConversionException naming the problem.
 */
class HostileStructureTest {
    static final Path FILE = Path.of("data.pkl");

    @TempDir
    Path tmp;

    /** Opcodes as in pickletools: the few this test needs. */
    static final int PROTO = 0x80, EMPTY_DICT = 0x7d, BINPUT = 0x71, BINGET = 0x68, BININT1 = 0x4b, SETITEM = 0x73,
            TUPLE1 = 0x85, NONE = 0x4e, STOP = 0x2e, MARK = 0x28, TUPLE = 0x74, BINPERSID = 0x51, GLOBAL = 0x63,
            SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d;

    static ByteArrayOutputStream pickle() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(PROTO);
        b.write(2);
        return b;
    }

    static void shortString(ByteArrayOutputStream b, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        b.write(SHORT_BINUNICODE);
        b.write(u.length);
        b.writeBytes(u);
    }

    @Test
    void aDictKeyThatContainsItselfIsRefused() {
        ByteArrayOutputStream b = pickle();
        b.write(EMPTY_DICT); // the state dict
        b.write(EMPTY_DICT); // d
        b.writeBytes(new byte[] {(byte) BINPUT, 0, (byte) BININT1, 1, (byte) BINGET, 0});
        b.write(SETITEM); // d[1] = d
        b.write(TUPLE1); // (d,)
        b.write(NONE);
        b.write(SETITEM); // state[(d,)] = None: hashing (d,) would never end
        b.write(STOP);
        assertThatThrownBy(() -> TorchUnpickler.load(FILE, b.toByteArray())).isInstanceOf(ConversionException.class)
                .hasMessageContaining("unhashable dict key");
    }

    @Test
    void deeplyNestedKeysAreRefused() {
        ByteArrayOutputStream b = pickle();
        b.write(EMPTY_DICT);
        b.writeBytes(new byte[] {(byte) BININT1, 1});
        for (int i = 0; i < 200_000; i++) b.write(TUPLE1); // ((((1,),),),...)
        b.write(NONE);
        b.write(SETITEM);
        b.write(STOP);
        assertThatThrownBy(() -> TorchUnpickler.load(FILE, b.toByteArray())).isInstanceOf(ConversionException.class)
                .hasMessageContaining("nested more than");
    }

    @Test
    void aStorageLocationThatIsNotAStringIsRefused() {
        ByteArrayOutputStream b = pickle();
        b.write(EMPTY_DICT);
        shortString(b, "w");
        b.write(MARK);
        shortString(b, "storage");
        b.write(GLOBAL);
        b.writeBytes("torch\nFloatStorage\n".getBytes(StandardCharsets.US_ASCII));
        shortString(b, "0");
        // location: d = {1: (d,)} instead of "cpu" (printing it would never end)
        b.write(EMPTY_DICT);
        b.writeBytes(new byte[] {(byte) BINPUT, 0, (byte) BININT1, 1, (byte) BINGET, 0, (byte) TUPLE1, (byte) SETITEM});
        b.writeBytes(new byte[] {(byte) BININT1, 4});
        b.write(TUPLE);
        b.write(BINPERSID);
        b.write(SETITEM);
        b.write(STOP);
        assertThatThrownBy(() -> TorchUnpickler.load(FILE, b.toByteArray())).isInstanceOf(ConversionException.class)
                .hasMessageContaining("malformed storage reference");
    }

    @Test
    void aStringLengthNearLongMaxIsTruncationNotOverflow() {
        ByteArrayOutputStream b = pickle();
        b.write(BINUNICODE8);
        b.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 4).array());
        b.writeBytes(new byte[] {'a', 'b', (byte) STOP});
        assertThatThrownBy(() -> TorchUnpickler.load(FILE, b.toByteArray())).isInstanceOf(ConversionException.class)
                .hasMessageContaining("truncated string");
    }

    @Test
    void aGgufTensorOffsetWhoseEndOverflowsIsRefused() throws IOException {
        Path f = tmp.resolve("overflow.gguf");
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46554747).putInt(3).putLong(1).putLong(0); // magic, version, 1 tensor, no metadata
        b.putLong(1).put((byte) 't').putInt(1).putLong(32).putInt(0); // "t": 1-D, 32 elements, F32
        b.putLong(Long.MAX_VALUE & ~31L); // aligned offset; offset + 128 bytes wraps around to a negative sum
        Files.write(f, b.array());
        assertThatThrownBy(() -> GgufReader.open(f).close()).isInstanceOf(ConversionException.class)
                .hasMessageContaining("data of tensor t extends past the end of the file");
    }
}
