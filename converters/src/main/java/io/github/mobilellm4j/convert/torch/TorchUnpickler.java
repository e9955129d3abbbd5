package io.github.mobilellm4j.convert.torch;

import io.github.mobilellm4j.convert.ConversionException;
import io.github.mobilellm4j.convert.hf.DType;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately small, safe unpickler for PyTorch state-dict pickles (data.pkl of a torch zip
 * checkpoint). It interprets only the opcodes such pickles use and resolves only an allow-list of
 * globals; it never executes anything. Any other opcode or global is rejected with an error.
 *
 * Result: the top-level dict, with tensors as {@link TensorRef} values.
 */
public final class TorchUnpickler {

    /** A storage referenced through BINPERSID: ('storage', type, key, location, numel). */
    public record StorageRef(DType dtype, String key, String location, long numel) {}

    /** torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...). */
    public record TensorRef(StorageRef storage, long storageOffset, long[] size, long[] stride) {}

    /** A resolved (allowed) global. */
    private record Global(String module, String name) {
        String full() { return module + "." + name; }
    }

    /** A tuple and how deeply tuples nest inside it (1 = no tuple inside). */
    private record Tuple(List<Object> items, int depth) {}

    /**
     * Bounds on what a hostile pickle can build: tuple nesting (hashing or printing nested objects recurses),
     * stack and memo sizes. A torch state dict nests tuples 3 deep and keeps a few entries per tensor.
     */
    private static final int MAX_NESTING = 64;
    private static final int MAX_STACK = 1 << 20;
    private static final int MAX_MEMO = 1 << 22;

    private static final Object MARK = new Object() {
        @Override public String toString() { return "MARK"; }
    };

    private final Path file;
    private final byte[] b;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private TorchUnpickler(Path file, byte[] data) {
        this.file = file;
        this.b = data;
    }

    /** Parses a pickle; file is only used in error messages. */
    public static Map<Object, Object> load(Path file, byte[] data) throws ConversionException {
        Object o = new TorchUnpickler(file, data).run();
        if (!(o instanceof Map<?, ?> m)) throw new ConversionException(file, "pickle does not contain a dict (state dict) at top level");
        @SuppressWarnings("unchecked")
        Map<Object, Object> r = (Map<Object, Object>) m;
        return r;
    }

    private ConversionException err(String msg) {
        return new ConversionException(file, "pickle: " + msg);
    }

    private int u8() throws ConversionException {
        if (pos >= b.length) throw err("truncated data");
        return b[pos++] & 0xff;
    }

    private long le(int n) throws ConversionException {
        if (pos + n > b.length) throw err("truncated data");
        long v = 0;
        for (int i = 0; i < n; i++) v |= (long) (b[pos + i] & 0xff) << (8 * i);
        pos += n;
        return v;
    }

    private String utf8(long n) throws ConversionException {
        if (n < 0 || n > b.length - pos) throw err("truncated string");
        String s = new String(b, pos, (int) n, StandardCharsets.UTF_8);
        pos += (int) n;
        return s;
    }

    private String line() throws ConversionException {
        int start = pos;
        while (pos < b.length && b[pos] != '\n') pos++;
        if (pos >= b.length) throw err("truncated GLOBAL");
        String s = new String(b, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private void push(Object o) throws ConversionException {
        if (stack.size() >= MAX_STACK) throw err("more than " + MAX_STACK + " objects on the stack");
        stack.add(o);
    }

    private Tuple tuple(List<Object> items) throws ConversionException {
        int depth = 1;
        for (Object o : items) if (o instanceof Tuple t) depth = Math.max(depth, t.depth + 1);
        if (depth > MAX_NESTING) throw err("tuples nested more than " + MAX_NESTING + " deep");
        return new Tuple(items, depth);
    }

    private void memoPut(long key) throws ConversionException {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(key)) throw err("more than " + MAX_MEMO + " memo entries");
        memo.put(key, peek());
    }

    /**
     * Python's rule: only immutable values can be dict keys; a tuple only if all its items can. Tuples are
     * bounded in depth and cannot contain themselves without a dict in between, so the recursion ends.
     */
    private static boolean hashable(Object k) {
        if (k instanceof Tuple t) {
            for (Object o : t.items) if (!hashable(o)) return false;
            return true;
        }
        return k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Global;
    }

    private Object pop() throws ConversionException {
        if (stack.isEmpty()) throw err("stack underflow");
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) throw err("unexpected MARK");
        return o;
    }

    private Object peek() throws ConversionException {
        if (stack.isEmpty()) throw err("stack underflow");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws ConversionException {
        if (marks.isEmpty()) throw err("no MARK on the stack");
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        while (stack.size() > m) stack.remove(stack.size() - 1);
        for (Object o : items) if (o == MARK) throw err("unbalanced MARK");
        return items;
    }

    private Global global(String module, String name) throws ConversionException {
        String full = module + "." + name;
        switch (full) {
            case "torch._utils._rebuild_tensor_v2", "collections.OrderedDict",
                 "torch.BFloat16Storage", "torch.HalfStorage", "torch.FloatStorage" -> {
                return new Global(module, name);
            }
            default -> throw err("forbidden global " + full + " (only state dicts of BFloat16/Half/Float tensors are accepted)");
        }
    }

    @SuppressWarnings("unchecked")
    private void setItems(Object target, List<Object> kv) throws ConversionException {
        if (!(target instanceof Map<?, ?>)) throw err("SETITEM(S) on a non-dict");
        if (kv.size() % 2 != 0) throw err("odd number of items for SETITEMS");
        Map<Object, Object> m = (Map<Object, Object>) target;
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            if (!hashable(k)) throw err("unhashable dict key (a dict, or a tuple holding one)");
            m.put(k, kv.get(i + 1));
        }
    }

    private Object run() throws ConversionException {
        while (true) {
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v > 5) throw err("unsupported protocol " + v);
                }
                case 0x95 -> le(8); // FRAME
                case 0x7d -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case 0x28 -> { marks.add(stack.size()); push(MARK); } // MARK
                case 0x58 -> push(utf8(le(4))); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(le(8))); // BINUNICODE8
                case 0x4a -> push((long) (int) le(4)); // BININT (signed)
                case 0x4b -> push((long) u8()); // BININT1
                case 0x4d -> push(le(2)); // BININT2
                case 0x8a -> { // LONG1
                    int n = u8();
                    if (pos + n > b.length) throw err("truncated LONG1");
                    byte[] be = new byte[Math.max(1, n)];
                    for (int i = 0; i < n; i++) be[n - 1 - i] = b[pos + i];
                    pos += n;
                    BigInteger bi = n == 0 ? BigInteger.ZERO : new BigInteger(be);
                    if (bi.bitLength() > 63) throw err("integer too large");
                    push(bi.longValue());
                }
                case 0x74 -> push(tuple(popMark())); // TUPLE
                case 0x29 -> push(tuple(List.of())); // EMPTY_TUPLE
                case 0x85 -> { Object a = pop(); push(tuple(listOf(a))); } // TUPLE1
                case 0x86 -> { Object c = pop(), a = pop(); push(tuple(listOf(a, c))); } // TUPLE2
                case 0x87 -> { Object c = pop(), bb = pop(), a = pop(); push(tuple(listOf(a, bb, c))); } // TUPLE3
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 0x4e -> push(null); // NONE
                case 0x63 -> { String m = line(); String n = line(); push(global(m, n)); } // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object n = pop(), m = pop();
                    if (!(m instanceof String ms) || !(n instanceof String ns)) throw err("STACK_GLOBAL needs two strings");
                    push(global(ms, ns));
                }
                case 0x68 -> push(memoGet(u8())); // BINGET
                case 0x6a -> push(memoGet(le(4))); // LONG_BINGET
                case 0x71 -> memoPut(u8()); // BINPUT
                case 0x72 -> memoPut(le(4)); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 0x73 -> { Object v = pop(), k = pop(); setItems(peek(), listOf(k, v)); } // SETITEM
                case 0x75 -> { List<Object> kv = popMark(); setItems(peek(), kv); } // SETITEMS
                case 0x51 -> push(persistentLoad(pop())); // BINPERSID
                case 0x52 -> { Object args = pop(); Object fn = pop(); push(reduce(fn, args)); } // REDUCE
                case 0x62 -> { // BUILD: only the instance state of an OrderedDict (state dicts' _metadata), ignored
                    Object state = pop();
                    Object obj = peek();
                    if (!(obj instanceof Map<?, ?>) || !(state instanceof Map<?, ?> || state instanceof Tuple)) {
                        throw err("BUILD is only accepted on an OrderedDict");
                    }
                }
                case 0x2e -> { // STOP
                    Object r = pop();
                    return r;
                }
                default -> throw err(String.format("unsupported opcode 0x%02x at offset %d", op, pos - 1));
            }
        }
    }

    private static List<Object> listOf(Object... o) {
        List<Object> l = new ArrayList<>(o.length);
        for (Object x : o) l.add(x);
        return l;
    }

    private Object memoGet(long k) throws ConversionException {
        if (!memo.containsKey(k)) throw err("memo key " + k + " not found");
        return memo.get(k);
    }

    private Object persistentLoad(Object pid) throws ConversionException {
        if (!(pid instanceof Tuple t) || t.items.size() != 5 || !"storage".equals(t.items.get(0))) {
            throw err("unsupported persistent id (expected a ('storage', type, key, location, numel) tuple)");
        }
        if (!(t.items.get(1) instanceof Global g)) throw err("storage type is not a global");
        DType dt = switch (g.full()) {
            case "torch.BFloat16Storage" -> DType.BF16;
            case "torch.HalfStorage" -> DType.F16;
            case "torch.FloatStorage" -> DType.F32;
            default -> throw err("unsupported storage type " + g.full());
        };
        Object loc = t.items.get(3);
        if (!(t.items.get(2) instanceof String key) || !(t.items.get(4) instanceof Long numel)
                || !(loc == null || loc instanceof String)) {
            throw err("malformed storage reference (expected a string key, a location such as 'cpu' and an element count)");
        }
        return new StorageRef(dt, key, loc == null ? "" : (String) loc, numel);
    }

    private Object reduce(Object fn, Object args) throws ConversionException {
        if (!(fn instanceof Global g)) throw err("REDUCE on a non-callable");
        if (!(args instanceof Tuple t)) throw err("REDUCE arguments are not a tuple");
        switch (g.full()) {
            case "collections.OrderedDict" -> {
                if (!t.items.isEmpty()) throw err("OrderedDict with constructor arguments is not supported");
                return new LinkedHashMap<Object, Object>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                List<Object> a = t.items;
                if (a.size() < 4) throw err("_rebuild_tensor_v2 needs at least 4 arguments");
                if (!(a.get(0) instanceof StorageRef s)) throw err("_rebuild_tensor_v2: first argument is not a storage");
                if (!(a.get(1) instanceof Long off)) throw err("_rebuild_tensor_v2: storage offset is not an int");
                return new TensorRef(s, off, longs(a.get(2), "size"), longs(a.get(3), "stride"));
            }
            default -> throw err("calling " + g.full() + " is not allowed");
        }
    }

    private long[] longs(Object o, String what) throws ConversionException {
        if (!(o instanceof Tuple t)) throw err("tensor " + what + " is not a tuple");
        long[] r = new long[t.items.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(t.items.get(i) instanceof Long l)) throw err("tensor " + what + " holds a non-integer");
            r[i] = l;
        }
        return r;
    }
}
