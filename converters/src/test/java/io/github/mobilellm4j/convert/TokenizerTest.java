package io.github.mobilellm4j.convert;

import io.github.mobilellm4j.convert.hf.HfConfig;
import io.github.mobilellm4j.convert.hf.TokenizerLoader;
import io.github.mobilellm4j.convert.hf.Vocabulary;
import io.github.mobilellm4j.convert.sentencepiece.SentencePieceModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

class TokenizerTest {
    @TempDir
    Path tmp;

    /** A ModelProto encoded by hand following the protobuf wire format. */
    @Test
    void parsesHandEncodedSentencePieceModel() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        // pieces[0] = {piece "<unk>", score 0.0, type UNKNOWN(2)}: 0A len | 0A 05 "<unk>" 15 f32 18 02
        b.write(new byte[] {0x0A, 14, 0x0A, 5});
        b.write("<unk>".getBytes(StandardCharsets.US_ASCII));
        b.write(new byte[] {0x15, 0, 0, 0, 0, 0x18, 2});
        // pieces[1] = {piece "▁t" (E2 96 81 74), score -1.5 (0xBFC00000), type absent = NORMAL}
        b.write(new byte[] {0x0A, 11, 0x0A, 4, (byte) 0xE2, (byte) 0x96, (byte) 0x81, 0x74, 0x15, 0, 0, (byte) 0xC0, (byte) 0xBF});
        // trainer_spec (field 2): model_type 3 = BPE(2), vocab_size 4 = 2, character_coverage 10 (f32, not in our
        // schema: must be skipped), byte_fallback 35 = 1, unk 40 = 0, bos 41 = 1, eos 42 = 2, pad 43 = -1 (10-byte varint)
        byte[] ts = {0x18, 2, 0x20, 2, 0x55, 0, 0, (byte) 0x80, 0x3F, (byte) 0x98, 2, 1, (byte) 0xC0, 2, 0, (byte) 0xC8, 2, 1,
                (byte) 0xD0, 2, 2, (byte) 0xD8, 2, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1};
        b.write(new byte[] {0x12, (byte) ts.length});
        b.write(ts);
        // normalizer_spec (field 3): name "identity", add_dummy_prefix false, remove_extra_whitespaces false
        b.write(new byte[] {0x1A, 14, 0x0A, 8});
        b.write("identity".getBytes(StandardCharsets.US_ASCII));
        b.write(new byte[] {0x18, 0, 0x20, 0});
        SentencePieceModel m = SentencePieceModel.parse(Path.of("x.model"), b.toByteArray());
        assertThat(m.pieces).hasSize(2);
        assertThat(m.pieces.get(0)).isEqualTo(new SentencePieceModel.Piece("<unk>", 0f, 2));
        assertThat(m.pieces.get(1)).isEqualTo(new SentencePieceModel.Piece("\u2581t", -1.5f, 1));
        assertThat(m.modelType).isEqualTo(SentencePieceModel.BPE);
        assertThat(m.vocabSize).isEqualTo(2);
        assertThat(m.byteFallback).isTrue();
        assertThat(m.unkId).isZero();
        assertThat(m.bosId).isEqualTo(1);
        assertThat(m.eosId).isEqualTo(2);
        assertThat(m.padId).isEqualTo(-1);
        assertThat(m.normalizerName).isEqualTo("identity");
        assertThat(m.addDummyPrefix).isFalse();
        assertThat(m.removeExtraWhitespaces).isFalse();
        // our writer re-encodes it; parsing that gives the same model
        SentencePieceModel again = SentencePieceModel.parse(Path.of("y"), m.toBytes());
        assertThat(again.pieces).isEqualTo(m.pieces);
        assertThat(again.padId).isEqualTo(-1);
    }

    /**
     * testdata/tokenizer/small-bpe.model was trained by the real sentencepiece library (0.2.2), and
     * small-bpe.ref.json lists the ids and pieces sentencepiece produced for a corpus: every
     * (id, piece) pair there must match the pieces we parse.
     */
    @Test
    void parsesModelWrittenBySentencepieceItself() throws Exception {
        Path dir = Path.of("..", "testdata", "tokenizer");
        SentencePieceModel m = SentencePieceModel.read(dir.resolve("small-bpe.model"));
        assertThat(m.pieces.size()).isEqualTo(1024);
        assertThat(m.modelType).isEqualTo(SentencePieceModel.BPE);
        assertThat(m.byteFallback).isTrue();
        assertThat(m.pieces.get(0)).isEqualTo(new SentencePieceModel.Piece("<unk>", 0f, SentencePieceModel.UNKNOWN));
        assertThat(m.pieces.get(13)).isEqualTo(new SentencePieceModel.Piece("<0x0A>", 0f, SentencePieceModel.BYTE));
        com.fasterxml.jackson.databind.JsonNode ref = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(dir.resolve("small-bpe.ref.json").toFile());
        int pairs = 0;
        for (com.fasterxml.jackson.databind.JsonNode c : ref.get("cases")) {
            for (int i = 0; i < c.get("ids").size(); i++) {
                assertThat(m.pieces.get(c.get("ids").get(i).asInt()).piece())
                        .isEqualTo(c.get("pieces").get(i).asText());
                pairs++;
            }
        }
        assertThat(pairs).as("reference pairs checked").isGreaterThan(100);
    }

    @Test
    void defaultsWhenTrainerSpecAbsent() throws Exception {
        // only one piece, no trainer/normalizer spec: proto2 defaults apply (unk 0, bos 1, eos 2, pad -1, dummy prefix on)
        byte[] b = {0x0A, 5, 0x0A, 3, 'a', 'b', 'c'};
        SentencePieceModel m = SentencePieceModel.parse(Path.of("x"), b);
        assertThat(m.pieces.get(0)).isEqualTo(new SentencePieceModel.Piece("abc", 0f, 1));
        assertThat(m.bosId).isEqualTo(1);
        assertThat(m.padId).isEqualTo(-1);
        assertThat(m.addDummyPrefix).isTrue();
    }

    @Test
    void tokenizerJsonScoresFollowMergeRanks() throws Exception {
        String vocab = "{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"<0x0A>\":3,\"<0x41>\":4,\"\u2581\":5,\"a\":6,\"b\":7,"
                + "\"\u2581a\":8,\"ab\":9,\"\u2581ab\":10,\"c\":11}";
        for (String merges : List.of("[\"\u2581 a\",\"a b\",\"\u2581a b\",\"\u2581 ab\"]",
                                     "[[\"\u2581\",\"a\"],[\"a\",\"b\"],[\"\u2581a\",\"b\"],[\"\u2581\",\"ab\"]]")) {
            Path dir = Files.createDirectories(tmp.resolve("t" + merges.length()));
            Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"added_tokens\":["
                    + "{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true},"
                    + "{\"id\":2,\"content\":\"</s>\",\"special\":true},{\"id\":12,\"content\":\"<custom>\",\"special\":false}],"
                    + "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},"
                    + "{\"type\":\"Replace\"}]},\"pre_tokenizer\":null,"
                    + "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"unk_token\":\"<unk>\",\"vocab\":" + vocab
                    + ",\"merges\":" + merges + "}}");
            Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\":true,\"add_eos_token\":true,\"bos_token\":\"<s>\",\"eos_token\":{\"content\":\"</s>\"}}");
            Files.writeString(dir.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,"
                    + "\"intermediate_size\":96,\"num_hidden_layers\":1,\"num_attention_heads\":4,\"vocab_size\":16}");
            ConverterTest.Rec rec = new ConverterTest.Rec();
            Vocabulary v = TokenizerLoader.load(dir, HfConfig.read(dir.resolve("config.json")), rec);
            assertThat(v.size()).isEqualTo(16);
            assertThat(v.tokens()).containsExactly("<unk>", "<s>", "</s>", "<0x0A>", "<0x41>", "\u2581", "a", "b",
                    "\u2581a", "ab", "\u2581ab", "c", "<custom>", "[PAD13]", "[PAD14]", "[PAD15]");
            // merges rank 0..3 -> "▁a" 0, "ab" -1, "▁ab" -2 (first merge producing it wins over "▁ ab");
            // pieces no merge produces score -(4 merges + id): "▁"(5) -9, "a"(6) -10, "b"(7) -11, "c"(11) -15
            assertThat(v.scores()).containsExactly(0, 0, 0, 0, 0, -9, -10, -11, 0, -1, -2, -15, 0, 0, 0, 0);
            assertThat(v.types()).containsExactly(2, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1, 4, 5, 5, 5);
            assertThat(v.bosId()).isEqualTo(1);
            assertThat(v.eosId()).isEqualTo(2);
            assertThat(v.unkId()).isZero();
            assertThat(v.addBos()).isTrue();
            assertThat(v.addEos()).isTrue();
            assertThat(v.addSpacePrefix()).isTrue();
            assertThat(rec.warnings).singleElement(STRING).contains("padding with [PAD{id}]");
        }
    }

    @Test
    void syntheticTokenizerShape() {
        SentencePieceModel m = SyntheticCheckpoint.syntheticTokenizer(32000);
        assertThat(m.pieces.size()).isEqualTo(32000);
        assertThat(m.pieces.stream().map(SentencePieceModel.Piece::piece).distinct().count()).isEqualTo(32000);
        assertThat(m.pieces.get(3).piece()).isEqualTo("<0x00>");
        assertThat(m.pieces.get(258).piece()).isEqualTo("<0xFF>");
        for (int i = 260; i < 32000; i++) {
            assertThat(m.pieces.get(i).score()).as("score of piece %d", i).isLessThan(m.pieces.get(i - 1).score());
        }
    }
}
