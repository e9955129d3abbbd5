package io.github.mobilellm4j.convert.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.DType;
import io.github.mobilellm4j.convert.hf.SourceTensor;
import io.github.mobilellm4j.convert.hf.WeightSet;
import io.github.mobilellm4j.convert.hf.WeightSets;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads safetensors files (8-byte little-endian header length, JSON header, raw data) by memory
 * mapping, validating the header completely. Also reads sharded checkpoints described by a
 * model.safetensors.index.json.
 */
public final class SafetensorsReader {
    private static final long MAX_HEADER = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsReader() {}

    /** Opens one safetensors file into a new weight set. */
    public static WeightSet open(Path file) throws ConversionException {
        WeightSet ws = new WeightSet(Arena.ofShared());
        try {
            read(file, ws, null);
            return ws;
        } catch (ConversionException | RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    /** Opens the shards listed in an index file (weight_map: tensor name -> shard file). */
    public static WeightSet openIndex(Path index) throws ConversionException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new ConversionException(index, "invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ConversionException.io(index, "cannot read", e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new ConversionException(index, "missing \"weight_map\" object");
        Map<String, Set<String>> byShard = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) throw new ConversionException(index, "weight_map entry " + e.getKey() + " is not a file name");
            String shard = e.getValue().asText();
            if (shard.contains("/") || shard.contains("\\") || shard.equals("..")) {
                throw new ConversionException(index, "weight_map names a file outside the folder: " + shard);
            }
            byShard.computeIfAbsent(shard, k -> new LinkedHashSet<>()).add(e.getKey());
        }
        if (byShard.isEmpty()) throw new ConversionException(index, "weight_map is empty");
        WeightSet ws = new WeightSet(Arena.ofShared());
        try {
            Path dir = index.toAbsolutePath().getParent();
            for (Map.Entry<String, Set<String>> e : byShard.entrySet()) {
                Path shard = dir.resolve(e.getKey());
                if (!Files.isRegularFile(shard)) throw new ConversionException(index, "shard " + e.getKey() + " listed in the index does not exist");
                read(shard, ws, e.getValue());
            }
            return ws;
        } catch (ConversionException | RuntimeException e) {
            ws.close();
            throw e;
        }
    }

    private static void read(Path file, WeightSet ws, Set<String> expected) throws ConversionException {
        // The header is read with plain I/O; each tensor is memory-mapped on its own when the
        // converter opens it (in the converter's per-tensor arena), so at most one tensor's pages
        // are mapped at a time.
        long fileSize;
        byte[] hb;
        long n;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            fileSize = ch.size();
            if (fileSize < 8) throw new ConversionException(file, "truncated: " + fileSize + " bytes is shorter than the 8-byte header length");
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0);
            n = lb.getLong(0);
            if (n < 2 || n > MAX_HEADER) throw new ConversionException(file, "corrupt header: header length " + Long.toUnsignedString(n) + " is invalid");
            if (n > fileSize - 8) {
                throw new ConversionException(file, "truncated: header length " + n + " exceeds the file size " + fileSize);
            }
            ByteBuffer hbuf = ByteBuffer.allocate((int) n);
            readFully(ch, hbuf, 8);
            hb = hbuf.array();
        } catch (IOException e) {
            throw ConversionException.io(file, "cannot read", e);
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(hb, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new ConversionException(file, "corrupt header: invalid JSON (" + e.getOriginalMessage() + ")");
        }
        if (header == null || !header.isObject()) throw new ConversionException(file, "corrupt header: not a JSON object");
        long dataStart = 8 + n;
        long dataSize = fileSize - dataStart;
        WeightSets.addFile(ws, file);
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            if (name.equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            JsonNode dt = t.get("dtype");
            JsonNode shape = t.get("shape");
            JsonNode offs = t.get("data_offsets");
            if (dt == null || !dt.isTextual() || shape == null || !shape.isArray() || offs == null || !offs.isArray() || offs.size() != 2) {
                throw new ConversionException(file, "corrupt header: tensor " + name + " lacks dtype, shape or data_offsets");
            }
            DType dtype = switch (dt.asText()) {
                case "BF16" -> DType.BF16;
                case "F16" -> DType.F16;
                case "F32" -> DType.F32;
                default -> throw new ConversionException(file, "tensor " + name + " has unsupported dtype " + dt.asText() + " (expected BF16, F16 or F32)");
            };
            long[] dims = new long[shape.size()];
            long numel = 1;
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = shape.get(i);
                if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) throw new ConversionException(file, "corrupt header: tensor " + name + " has an invalid shape");
                dims[i] = d.asLong();
                try {
                    numel = Math.multiplyExact(numel, dims[i]);
                } catch (ArithmeticException ex) {
                    throw new ConversionException(file, "corrupt header: tensor " + name + " is too large");
                }
            }
            if (!offs.get(0).isIntegralNumber() || !offs.get(1).isIntegralNumber()) throw new ConversionException(file, "corrupt header: tensor " + name + " has invalid data_offsets");
            long b = offs.get(0).asLong(), en = offs.get(1).asLong();
            if (b < 0 || en < b || en > dataSize) {
                throw new ConversionException(file, "truncated or corrupt: data of tensor " + name + " [" + b + ", " + en + ") is outside the " + dataSize + "-byte data section");
            }
            if (numel > Long.MAX_VALUE / 4 || en - b != numel * dtype.size) {
                throw new ConversionException(file, "corrupt header: tensor " + name + " has " + (en - b) + " bytes but shape needs " + numel * dtype.size);
            }
            ranges.add(new long[] {b, en});
            if (expected != null && !expected.contains(name)) {
                throw new ConversionException(file, "tensor " + name + " is in this shard but not in the index's weight_map");
            }
            long at = dataStart + b, len = en - b;
            if (!WeightSets.add(ws, new SourceTensor(name, dtype, dims, file, arena -> map(file, at, len, arena)))) {
                throw new ConversionException(file, "tensor " + name + " appears in more than one file");
            }
        }
        ranges.sort((x, y) -> Long.compare(x[0], y[0]));
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i)[0] < ranges.get(i - 1)[1]) throw new ConversionException(file, "corrupt header: tensor data ranges overlap");
        }
        if (expected != null) {
            for (String name : expected) {
                if (ws.get(name) == null) throw new ConversionException(file, "tensor " + name + " listed in the index is missing from this shard");
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    /** Maps [offset, offset+len) of file read-only into arena. */
    public static MemorySegment map(Path file, long offset, long len, Arena arena) throws ConversionException {
        if (len == 0) return MemorySegment.ofArray(new byte[0]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset > ch.size() - len) throw new ConversionException(file, "truncated: file shrank while reading");
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, len, arena);
        } catch (IOException e) {
            throw ConversionException.io(file, "cannot map", e);
        }
    }
}
