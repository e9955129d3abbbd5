package io.github.mobilellm4j.chat;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.GeneratedToken;
import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Scheduler;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A conversation over a {@link Session}: each call renders the whole conversation with the chat
 * template, keeps the part of the KV cache that holds the same tokens (the shared prefix of the
 * previous prompt and reply) and evaluates only the rest, then streams the assistant's reply,
 * separating reasoning ({@code <think>...</think>}) from the answer. Generation stops at the
 * model's end-of-turn token. The session must not be used for anything else meanwhile (if it is,
 * the cache is reset). Not thread-safe, like the session.
 */
public final class ChatSession {
    /** A streamed piece of the reply: the generated token and its text split into reasoning and answer. */
    public record Chunk(GeneratedToken token, String reasoning, String answer) {}

    private final Session session;
    private final ChatTemplate template;
    /** Steps the replies together with other sequences; null: the session generates alone. */
    private final Scheduler scheduler;
    private int[] cached = new int[0]; // the tokens in the session's KV cache, as far as known

    public ChatSession(Session session, ChatTemplate template) {
        this(session, template, null);
    }

    /**
     * A conversation whose replies are generated through {@code scheduler} (continuous batching with the
     * scheduler's other sequences; callbacks still run on the thread calling {@link #reply}); null generates in
     * the session alone.
     */
    public ChatSession(Session session, ChatTemplate template, Scheduler scheduler) {
        this.session = Objects.requireNonNull(session, "session");
        this.template = Objects.requireNonNull(template, "template");
        this.scheduler = scheduler;
    }

    /** A conversation with the model's own chat template (see {@link ChatTemplate#from}). */
    public static ChatSession of(Session session) {
        return new ChatSession(session, ChatTemplate.from(session.model()));
    }

    /** Generates the assistant's reply to the conversation, streaming chunks to onChunk (may be null). */
    public ChatReply reply(List<ChatMessage> messages, GenerateOptions options, Consumer<Chunk> onChunk) {
        Objects.requireNonNull(options, "options");
        String prompt = template.render(messages, true);
        Tokenizer tok = session.model().tokenizer();
        int[] ids = tok.encode(prompt, false, true); // the template writes BOS and special tokens itself
        if (session.position() != cached.length) cached = Arrays.copyOf(cached, Math.min(cached.length, session.position()));
        if (session.position() != cached.length) {
            session.reset();
            cached = new int[0];
        }
        int keep = Arrays.mismatch(cached, ids);
        if (keep < 0) keep = ids.length; // the same tokens: re-evaluate the last one for fresh logits
        keep = Math.min(keep, ids.length - 1);
        if (keep < session.position()) session.truncate(keep);
        keep = session.position(); // sliding-window layers may not hold what the prefix needs: then less (or nothing) is kept
        int[] rest = Arrays.copyOfRange(ids, keep, ids.length);
        String open = prompt.substring(Math.max(0, prompt.lastIndexOf(ReasoningSplitter.OPEN)));
        ReasoningSplitter split = new ReasoningSplitter(prompt.contains(ReasoningSplitter.OPEN) && !open.contains(ReasoningSplitter.CLOSE));
        List<Integer> generated = new ArrayList<>();
        Consumer<GeneratedToken> onToken = t -> {
            generated.add(t.id());
            String text = t.text();
            String piece = tok.piece(t.id());
            if (text.isEmpty() && (piece.equals(ReasoningSplitter.OPEN) || piece.equals(ReasoningSplitter.CLOSE))) text = piece;
            ReasoningSplitter.Delta d = split.push(text);
            if (onChunk != null) onChunk.accept(new Chunk(t, d.reasoning(), d.answer()));
        };
        Generation g = scheduler == null ? session.generate(rest, options, onToken)
                : scheduler.generate(session, rest, options, onToken);
        ReasoningSplitter.Delta tail = split.finish();
        if (onChunk != null && (!tail.reasoning().isEmpty() || !tail.answer().isEmpty())) {
            onChunk.accept(new Chunk(null, tail.reasoning(), tail.answer()));
        }
        int[] all = Arrays.copyOf(ids, ids.length + generated.size());
        for (int i = 0; i < generated.size(); i++) all[ids.length + i] = generated.get(i);
        cached = Arrays.copyOf(all, Math.min(all.length, session.position()));
        // the reply's prompt is the whole conversation, however much of it the cache already held
        Generation whole = new Generation(g.text(), ids, g.tokens(), g.stopReason(), g.timings());
        return new ChatReply(split.answer(), split.reasoning(), whole);
    }

    /** Forgets the conversation's cached tokens (the next reply evaluates its whole prompt). */
    public void reset() {
        session.reset();
        cached = new int[0];
    }
}
