package io.github.mobilellm4j.convert.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.convert.AtomicOutput;
import io.github.mobilellm4j.convert.ChannelSink;
import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.DType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Streaming safetensors writer (header first, then each tensor's bytes in order). */
public final class SafetensorsWriter {

    @FunctionalInterface
    public interface Data {
        void write(ChannelSink sink) throws IOException;
    }

    private record T(String name, DType dtype, long[] shape, Data data) {}

    private final List<T> tensors = new ArrayList<>();
    private final Map<String, String> metadata;

    public SafetensorsWriter(Map<String, String> metadata) {
        this.metadata = metadata;
    }

    public SafetensorsWriter add(String name, DType dtype, long[] shape, Data data) {
        tensors.add(new T(name, dtype, shape.clone(), data));
        return this;
    }

    public void write(Path out, boolean force) throws ConversionException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode h = om.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = h.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long off = 0;
        for (T t : tensors) {
            ObjectNode o = h.putObject(t.name);
            o.put("dtype", t.dtype.name());
            ArrayNode s = o.putArray("shape");
            long n = 1;
            for (long d : t.shape) {
                s.add(d);
                n *= d;
            }
            ArrayNode d = o.putArray("data_offsets");
            d.add(off);
            off += n * t.dtype.size;
            d.add(off);
        }
        byte[] hb;
        try {
            hb = om.writeValueAsString(h).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw ConversionException.io(out, "cannot build header", e);
        }
        int pad = (8 - hb.length % 8) % 8;
        try (AtomicOutput ao = AtomicOutput.create(out, force, List.of())) {
            ChannelSink sink = new ChannelSink(ao.channel(), 4 << 20);
            sink.u64(hb.length + pad);
            sink.bytes(hb);
            for (int i = 0; i < pad; i++) sink.u8(' ');
            long dataStart = sink.position();
            long expect = 0;
            for (T t : tensors) {
                long n = 1;
                for (long d : t.shape) n *= d;
                t.data.write(sink);
                expect += n * t.dtype.size;
                if (sink.position() - dataStart != expect) throw new IllegalStateException(t.name + ": wrong number of bytes written");
            }
            sink.flush();
            ao.commit();
        } catch (IOException e) {
            throw ConversionException.io(out, "write failed", e);
        }
    }
}
