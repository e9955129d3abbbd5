package io.github.mobilellm4j.convert.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.WeightSet;
import io.github.mobilellm4j.convert.safetensors.SafetensorsReader;

/** The safetensors reader, seeded with a header written by the Python safetensors library and a tiny file. */
class SafetensorsFuzzTest {
    @FuzzTest
    void safetensors(byte[] data) {
        try (WeightSet ws = SafetensorsReader.open(FuzzInput.file("fuzz.safetensors", data))) {
            FuzzInput.readAll(ws);
        } catch (ConversionException expected) {
            // rejected with a message: the contract
        }
    }
}
