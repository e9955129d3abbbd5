package io.github.mobilellm4j.convert.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.torch.TorchUnpickler;
import java.nio.file.Path;

/** The unpickler of torch checkpoints (data.pkl), seeded with a state dict written by torch.save. */
class PickleFuzzTest {
    @FuzzTest
    // libFuzzer's dictionary syntax: \x0a is the newline that ends each half of a GLOBAL opcode's name
    @DictionaryEntries({"torch._utils\\x0a_rebuild_tensor_v2\\x0a", "collections\\x0aOrderedDict\\x0a",
            "torch\\x0aFloatStorage\\x0a", "torch\\x0aHalfStorage\\x0a", "torch\\x0aBFloat16Storage\\x0a", "storage", "cpu"})
    void pickle(byte[] data) {
        try {
            TorchUnpickler.load(Path.of("data.pkl"), data);
        } catch (ConversionException expected) {
            // rejected with a message: the contract
        }
    }
}
