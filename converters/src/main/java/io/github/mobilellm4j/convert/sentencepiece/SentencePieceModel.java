package io.github.mobilellm4j.convert.sentencepiece;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mobilellm4j.convert.ConversionException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece model (tokenizer.model): pieces with scores and types, plus the trainer and
 * normalizer settings the converter needs. Parsed and written with protobuf-java's
 * DynamicMessage over a descriptor built in code from the schema in sentencepiece_subset.proto
 * (same package in resources).
 */
public final class SentencePieceModel {
    /** Piece types (SentencePiece's ModelProto.SentencePiece.Type numbering = GGUF token types). */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    /** TrainerSpec.ModelType values. */
    public static final int UNIGRAM = 1, BPE = 2, WORD = 3, CHAR = 4;

    public record Piece(String piece, float score, int type) {}

    public final List<Piece> pieces;
    public int modelType = UNIGRAM;
    public int vocabSize = 8000;
    public boolean byteFallback;
    public int unkId = 0, bosId = 1, eosId = 2, padId = -1;
    public String normalizerName = "";
    public boolean addDummyPrefix = true;
    public boolean removeExtraWhitespaces = true;

    public SentencePieceModel(List<Piece> pieces) {
        this.pieces = new ArrayList<>(pieces);
    }

    // ---- descriptor ---------------------------------------------------------------------------

    private static final Descriptor MODEL, PIECE, TRAINER, NORMALIZER;

    static {
        FieldDescriptorProto.Label opt = FieldDescriptorProto.Label.LABEL_OPTIONAL;
        DescriptorProto trainer = DescriptorProto.newBuilder().setName("TrainerSpec")
                .addEnumType(enumType("ModelType", new String[] {"UNIGRAM", "BPE", "WORD", "CHAR"}, new int[] {1, 2, 3, 4}))
                .addField(field("model_type", 3, FieldDescriptorProto.Type.TYPE_ENUM, opt, ".mobilellm4j.sentencepiece.TrainerSpec.ModelType", "UNIGRAM"))
                .addField(field("vocab_size", 4, FieldDescriptorProto.Type.TYPE_INT32, opt, null, "8000"))
                .addField(field("byte_fallback", 35, FieldDescriptorProto.Type.TYPE_BOOL, opt, null, "false"))
                .addField(field("unk_id", 40, FieldDescriptorProto.Type.TYPE_INT32, opt, null, "0"))
                .addField(field("bos_id", 41, FieldDescriptorProto.Type.TYPE_INT32, opt, null, "1"))
                .addField(field("eos_id", 42, FieldDescriptorProto.Type.TYPE_INT32, opt, null, "2"))
                .addField(field("pad_id", 43, FieldDescriptorProto.Type.TYPE_INT32, opt, null, "-1"))
                .build();
        DescriptorProto normalizer = DescriptorProto.newBuilder().setName("NormalizerSpec")
                .addField(field("name", 1, FieldDescriptorProto.Type.TYPE_STRING, opt, null, null))
                .addField(field("add_dummy_prefix", 3, FieldDescriptorProto.Type.TYPE_BOOL, opt, null, "true"))
                .addField(field("remove_extra_whitespaces", 4, FieldDescriptorProto.Type.TYPE_BOOL, opt, null, "true"))
                .build();
        DescriptorProto piece = DescriptorProto.newBuilder().setName("SentencePiece")
                .addEnumType(enumType("Type", new String[] {"NORMAL", "UNKNOWN", "CONTROL", "USER_DEFINED", "BYTE", "UNUSED"}, new int[] {1, 2, 3, 4, 6, 5}))
                .addField(field("piece", 1, FieldDescriptorProto.Type.TYPE_STRING, opt, null, null))
                .addField(field("score", 2, FieldDescriptorProto.Type.TYPE_FLOAT, opt, null, null))
                .addField(field("type", 3, FieldDescriptorProto.Type.TYPE_ENUM, opt, ".mobilellm4j.sentencepiece.ModelProto.SentencePiece.Type", "NORMAL"))
                .build();
        DescriptorProto model = DescriptorProto.newBuilder().setName("ModelProto")
                .addNestedType(piece)
                .addField(field("pieces", 1, FieldDescriptorProto.Type.TYPE_MESSAGE, FieldDescriptorProto.Label.LABEL_REPEATED, ".mobilellm4j.sentencepiece.ModelProto.SentencePiece", null))
                .addField(field("trainer_spec", 2, FieldDescriptorProto.Type.TYPE_MESSAGE, opt, ".mobilellm4j.sentencepiece.TrainerSpec", null))
                .addField(field("normalizer_spec", 3, FieldDescriptorProto.Type.TYPE_MESSAGE, opt, ".mobilellm4j.sentencepiece.NormalizerSpec", null))
                .build();
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName("sentencepiece_subset.proto").setPackage("mobilellm4j.sentencepiece").setSyntax("proto2")
                .addMessageType(trainer).addMessageType(normalizer).addMessageType(model).build();
        try {
            Descriptors.FileDescriptor fd = Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[0]);
            TRAINER = fd.findMessageTypeByName("TrainerSpec");
            NORMALIZER = fd.findMessageTypeByName("NormalizerSpec");
            MODEL = fd.findMessageTypeByName("ModelProto");
            PIECE = MODEL.findNestedTypeByName("SentencePiece");
        } catch (Descriptors.DescriptorValidationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static EnumDescriptorProto enumType(String name, String[] names, int[] numbers) {
        EnumDescriptorProto.Builder b = EnumDescriptorProto.newBuilder().setName(name);
        for (int i = 0; i < names.length; i++) b.addValue(EnumValueDescriptorProto.newBuilder().setName(names[i]).setNumber(numbers[i]));
        return b.build();
    }

    private static FieldDescriptorProto field(String name, int number, FieldDescriptorProto.Type type,
                                              FieldDescriptorProto.Label label, String typeName, String def) {
        FieldDescriptorProto.Builder b = FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type).setLabel(label);
        if (typeName != null) b.setTypeName(typeName);
        if (def != null) b.setDefaultValue(def);
        return b.build();
    }

    // ---- reading ------------------------------------------------------------------------------

    public static SentencePieceModel read(Path file) throws ConversionException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw ConversionException.io(file, "cannot read", e);
        }
        return parse(file, bytes);
    }

    public static SentencePieceModel parse(Path file, byte[] bytes) throws ConversionException {
        DynamicMessage m;
        try {
            m = DynamicMessage.parseFrom(MODEL, bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ConversionException(file, "not a valid SentencePiece model: " + e.getMessage());
        }
        FieldDescriptor fPieces = MODEL.findFieldByName("pieces");
        int n = m.getRepeatedFieldCount(fPieces);
        if (n == 0) throw new ConversionException(file, "SentencePiece model has no pieces");
        List<Piece> pieces = new ArrayList<>(n);
        FieldDescriptor fp = PIECE.findFieldByName("piece"), fs = PIECE.findFieldByName("score"), ft = PIECE.findFieldByName("type");
        for (int i = 0; i < n; i++) {
            DynamicMessage p = (DynamicMessage) m.getRepeatedField(fPieces, i);
            if (!p.hasField(fp)) throw new ConversionException(file, "SentencePiece piece " + i + " has no text");
            int type = ((Descriptors.EnumValueDescriptor) p.getField(ft)).getNumber();
            pieces.add(new Piece((String) p.getField(fp), (Float) p.getField(fs), type));
        }
        SentencePieceModel sp = new SentencePieceModel(pieces);
        DynamicMessage t = (DynamicMessage) m.getField(MODEL.findFieldByName("trainer_spec"));
        sp.modelType = ((Descriptors.EnumValueDescriptor) t.getField(TRAINER.findFieldByName("model_type"))).getNumber();
        sp.vocabSize = (Integer) t.getField(TRAINER.findFieldByName("vocab_size"));
        sp.byteFallback = (Boolean) t.getField(TRAINER.findFieldByName("byte_fallback"));
        sp.unkId = (Integer) t.getField(TRAINER.findFieldByName("unk_id"));
        sp.bosId = (Integer) t.getField(TRAINER.findFieldByName("bos_id"));
        sp.eosId = (Integer) t.getField(TRAINER.findFieldByName("eos_id"));
        sp.padId = (Integer) t.getField(TRAINER.findFieldByName("pad_id"));
        DynamicMessage ns = (DynamicMessage) m.getField(MODEL.findFieldByName("normalizer_spec"));
        sp.normalizerName = (String) ns.getField(NORMALIZER.findFieldByName("name"));
        sp.addDummyPrefix = (Boolean) ns.getField(NORMALIZER.findFieldByName("add_dummy_prefix"));
        sp.removeExtraWhitespaces = (Boolean) ns.getField(NORMALIZER.findFieldByName("remove_extra_whitespaces"));
        return sp;
    }

    // ---- writing ------------------------------------------------------------------------------

    public byte[] toBytes() {
        DynamicMessage.Builder mb = DynamicMessage.newBuilder(MODEL);
        FieldDescriptor fPieces = MODEL.findFieldByName("pieces");
        FieldDescriptor ft = PIECE.findFieldByName("type");
        for (Piece p : pieces) {
            DynamicMessage.Builder pb = DynamicMessage.newBuilder(PIECE)
                    .setField(PIECE.findFieldByName("piece"), p.piece())
                    .setField(PIECE.findFieldByName("score"), p.score());
            if (p.type() != NORMAL) pb.setField(ft, ft.getEnumType().findValueByNumber(p.type()));
            mb.addRepeatedField(fPieces, pb.build());
        }
        FieldDescriptor mt = TRAINER.findFieldByName("model_type");
        DynamicMessage trainer = DynamicMessage.newBuilder(TRAINER)
                .setField(mt, mt.getEnumType().findValueByNumber(modelType))
                .setField(TRAINER.findFieldByName("vocab_size"), vocabSize)
                .setField(TRAINER.findFieldByName("byte_fallback"), byteFallback)
                .setField(TRAINER.findFieldByName("unk_id"), unkId)
                .setField(TRAINER.findFieldByName("bos_id"), bosId)
                .setField(TRAINER.findFieldByName("eos_id"), eosId)
                .setField(TRAINER.findFieldByName("pad_id"), padId)
                .build();
        DynamicMessage normalizer = DynamicMessage.newBuilder(NORMALIZER)
                .setField(NORMALIZER.findFieldByName("name"), normalizerName)
                .setField(NORMALIZER.findFieldByName("add_dummy_prefix"), addDummyPrefix)
                .setField(NORMALIZER.findFieldByName("remove_extra_whitespaces"), removeExtraWhitespaces)
                .build();
        mb.setField(MODEL.findFieldByName("trainer_spec"), trainer);
        mb.setField(MODEL.findFieldByName("normalizer_spec"), normalizer);
        return mb.build().toByteArray();
    }
}
