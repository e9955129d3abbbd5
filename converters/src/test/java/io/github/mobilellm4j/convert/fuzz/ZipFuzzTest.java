package io.github.mobilellm4j.convert.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.WeightSet;
import io.github.mobilellm4j.convert.torch.TorchCheckpointReader;
import io.github.mobilellm4j.convert.torch.ZipArchive;
import java.lang.foreign.Arena;
import java.nio.file.Path;

/**
 * The zip reader (central directory, ZIP64, stored and deflated entries) and the torch checkpoint reader on
 * top of it, seeded with small checkpoints written by java.util.zip.
 */
class ZipFuzzTest {
    @FuzzTest
    void zip(byte[] data) {
        Path f = FuzzInput.file("fuzz.zip", data);
        try {
            ZipArchive zip = ZipArchive.open(f);
            for (ZipArchive.Entry e : zip.entries().values()) {
                try (Arena a = Arena.ofConfined()) {
                    FuzzInput.touch(zip.data(e, a));
                } catch (ConversionException expected) {
                    // a corrupt entry: the others are still read
                }
            }
            try (WeightSet ws = TorchCheckpointReader.open(f)) {
                FuzzInput.readAll(ws);
            }
        } catch (ConversionException expected) {
            // rejected with a message: the contract
        }
    }
}
