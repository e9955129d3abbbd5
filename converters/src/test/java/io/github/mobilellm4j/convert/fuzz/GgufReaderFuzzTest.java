package io.github.mobilellm4j.convert.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.gguf.GgufReader;
import io.github.mobilellm4j.convert.gguf.GgufTensorInfo;

/** The converter's GGUF reader (what quantize reads), seeded with a small file of three tensor types. */
class GgufReaderFuzzTest {
    @FuzzTest
    void gguf(byte[] data) {
        try (GgufReader r = GgufReader.open(FuzzInput.file("fuzz.gguf", data))) {
            r.metadata().values().forEach(Object::toString);
            for (GgufTensorInfo t : r.tensors()) FuzzInput.touch(r.tensorData(t));
        } catch (ConversionException expected) {
            // rejected with a message: the contract
        }
    }
}
