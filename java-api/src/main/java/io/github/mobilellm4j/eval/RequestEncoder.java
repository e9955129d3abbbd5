package io.github.mobilellm4j.eval;

import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * lm-evaluation-harness's tokenization of a (context, continuation) request (HFLM with a causal model):
 * trailing whitespace of the context moves to the start of the continuation; the context and context plus
 * continuation are each encoded as the tokenizer does by default (BOS when it adds one, unless the text already
 * starts with the BOS text; special-token text is parsed), and the continuation's tokens are what the whole
 * encoding has beyond the context's. An empty context becomes the prefix token (BOS, else EOS) before the
 * continuation encoded without special tokens.
 */
final class RequestEncoder {
    private final Tokenizer tokenizer;
    private final int prefixToken;
    private final String bosText;

    RequestEncoder(Model model) {
        this.tokenizer = model.tokenizer();
        int bos = tokenizer.bos();
        this.prefixToken = bos >= 0 ? bos : tokenizer.eos();
        this.bosText = bos >= 0 ? tokenizer.piece(bos) : null;
    }

    TokenizedItem encode(EvalItem item) {
        Map<String, int[]> contexts = new HashMap<>(); // the choices of an item usually share their context
        List<TokenizedItem.Request> out = new ArrayList<>(item.requests().size());
        for (EvalItem.Request r : item.requests()) out.add(encode(r.context(), r.continuation(), contexts));
        return new TokenizedItem(out);
    }

    private TokenizedItem.Request encode(String context, String continuation, Map<String, int[]> contexts) {
        if (context.isEmpty()) {
            int[] c = tokenizer.encode(continuation, false, true);
            if (c.length > 0 && c[0] == prefixToken) return checked(new int[] {c[0]}, Arrays.copyOfRange(c, 1, c.length), continuation);
            return checked(new int[] {prefixToken}, c, continuation);
        }
        String trimmed = PythonText.rstrip(context);
        if (trimmed.length() < context.length()) {
            continuation = context.substring(trimmed.length()) + continuation;
            context = trimmed;
        }
        int[] whole = encode(context + continuation);
        int[] ctx = contexts.computeIfAbsent(context, this::encode);
        int[] cont = whole.length > ctx.length ? Arrays.copyOfRange(whole, ctx.length, whole.length) : new int[0];
        return checked(ctx, cont, continuation);
    }

    private int[] encode(String text) {
        boolean hasBos = bosText != null && !bosText.isEmpty() && text.startsWith(bosText);
        return tokenizer.encode(text, hasBos ? Boolean.FALSE : null, true);
    }

    private static TokenizedItem.Request checked(int[] context, int[] continuation, String text) {
        if (context.length == 0) throw new IllegalArgumentException("the context encodes to no tokens (before '" + text + "')");
        if (continuation.length == 0) throw new IllegalArgumentException("the continuation '" + text + "' encodes to no tokens");
        return new TokenizedItem.Request(context, continuation);
    }
}
