package io.github.mobilellm4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs many independent texts through {@link Batch} passes: the texts, in order, are grouped into passes
 * within the {@link BatchLimits}, each text of a pass in a session of its own, the sessions reused from pass to
 * pass. A text that does not fit a pass (or a batch session's context) runs alone in a default session.
 */
final class TextBatches {
    /** Adds one text to the pass, in the given session. */
    interface Adder {
        void add(Batch batch, Session session, int[] tokens);
    }

    /** Reads a text's result from its session after the pass. */
    interface Reader<R> {
        R read(Session session, int[] tokens);
    }

    /** Computes a text's result alone (for texts longer than a pass). */
    interface Alone<R> {
        R run(Session session, int[] tokens);
    }

    private TextBatches() {}

    static <R> List<R> run(Model model, List<int[]> texts, BatchLimits limits, Adder adder, Reader<R> reader, Alone<R> alone) {
        List<R> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) out.add(null);
        try (Session single = model.newSession()) {
            int longest = Math.min(limits.maxTokens(), single.contextLength());
            List<Session> places = new ArrayList<>();
            try (Batch batch = Batch.create(model, limits.maxTokens(), limits.maxSequences())) {
                List<Integer> pass = new ArrayList<>();
                int passTokens = 0;
                for (int i = 0; i < texts.size(); i++) {
                    int[] tokens = texts.get(i);
                    if (tokens.length > longest) {
                        out.set(i, alone.run(single, tokens));
                        continue;
                    }
                    if (pass.size() == limits.maxSequences() || passTokens + tokens.length > limits.maxTokens()) {
                        runPass(model, texts, pass, places, batch, adder, reader, out, longest);
                        pass.clear();
                        passTokens = 0;
                    }
                    pass.add(i);
                    passTokens += tokens.length;
                }
                runPass(model, texts, pass, places, batch, adder, reader, out, longest);
            } finally {
                places.forEach(Session::close);
            }
        }
        return out;
    }

    private static <R> void runPass(Model model, List<int[]> texts, List<Integer> pass, List<Session> places, Batch batch,
            Adder adder, Reader<R> reader, List<R> out, int longest) {
        if (pass.isEmpty()) return;
        while (places.size() < pass.size()) {
            // contexts only as long as a pass: a text of a pass never needs more
            places.add(model.newSession(SessionOptions.builder().contextLength(longest).batchSize(longest).build()));
        }
        for (int k = 0; k < pass.size(); k++) adder.add(batch, places.get(k), texts.get(pass.get(k)));
        batch.decode();
        for (int k = 0; k < pass.size(); k++) out.set(pass.get(k), reader.read(places.get(k), texts.get(pass.get(k))));
    }
}
