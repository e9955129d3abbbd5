package io.github.mobilellm4j.convert.gguf;

import java.util.List;
import java.util.Objects;

/**
 * A GGUF metadata value. Scalars are held as: UINT8/INT8/UINT16/INT16/INT32 Integer, UINT32,
 * UINT64, INT64 Long (UINT64 as raw bits), FLOAT32 Float, FLOAT64 Double, BOOL Boolean, STRING
 * String. Arrays hold a List of such scalars (or of nested arrays as GgufValue) with elementType.
 */
public record GgufValue(GgufValueType type, Object value, GgufValueType elementType) {

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if (type == GgufValueType.ARRAY) {
            Objects.requireNonNull(elementType, "array element type");
            if (!(value instanceof List<?>)) throw new IllegalArgumentException("array value must be a List");
        }
    }

    public static GgufValue string(String s) { return new GgufValue(GgufValueType.STRING, s, null); }
    public static GgufValue u32(long v) {
        if (v < 0 || v > 0xffffffffL) throw new IllegalArgumentException("uint32 out of range: " + v);
        return new GgufValue(GgufValueType.UINT32, v, null);
    }
    public static GgufValue i32(int v) { return new GgufValue(GgufValueType.INT32, v, null); }
    public static GgufValue f32(float v) { return new GgufValue(GgufValueType.FLOAT32, v, null); }
    public static GgufValue bool(boolean v) { return new GgufValue(GgufValueType.BOOL, v, null); }
    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, List.copyOf(values), elementType);
    }

    @SuppressWarnings("unchecked")
    public List<Object> asList() { return (List<Object>) value; }

    public String asString() { return (String) value; }

    /** Integer-typed value as long (any integer type). */
    public long asLong() { return ((Number) value).longValue(); }

    public float asFloat() { return ((Number) value).floatValue(); }

    public boolean asBool() { return (Boolean) value; }

    @Override
    public String toString() {
        if (type == GgufValueType.ARRAY) {
            List<?> l = asList();
            return "[" + elementType.name().toLowerCase() + " x " + l.size() + "]";
        }
        return String.valueOf(value);
    }
}
