package io.github.mobilellm4j.convert.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.HfConfig;

/** config.json handling, seeded with the configs of the test checkpoints (written by transformers). */
class ConfigJsonFuzzTest {
    @FuzzTest
    @DictionaryEntries({"\"hidden_size\"", "\"intermediate_size\"", "\"num_hidden_layers\"", "\"num_attention_heads\"",
            "\"num_key_value_heads\"", "\"head_dim\"", "\"rms_norm_eps\"", "\"rope_theta\"", "\"max_position_embeddings\"",
            "\"vocab_size\"", "\"bos_token_id\"", "\"eos_token_id\"", "\"tie_word_embeddings\"", "\"share_embedding\"",
            "\"layer_sharing\"", "\"architectures\"", "\"model_type\"", "\"rope_scaling\"", "\"hidden_act\"",
            "\"MobileLLMForCausalLM\"", "\"LlamaForCausalLM\"", "null", "true", "1e-05", "4294967296", "-1", "1e308"})
    void config(byte[] data) {
        try {
            HfConfig.read(FuzzInput.file("config.json", data));
        } catch (ConversionException expected) {
            // rejected with a message: the contract
        }
    }
}
