package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Greedy speculative decoding against the target alone (the reference): the llama-f32 checkpoint generates, drafted
 * by a random-weight model around the same tokenizer (nearly every proposal rejected) and by itself (nearly every
 * one accepted; the other test checkpoints of this tokenizer agree with it on every greedy token). Tokens, text,
 * stop reason and the session's position afterwards must be those of the target alone, however the generation ends.
 */
class SpeculativeDecodingTest extends ReferenceModelFixture {
    private static Model otherDraft;
    /** The target's own checkpoint in Q4_0: it agrees on most tokens, so rounds end at varying positions. */
    private static Model quantizedDraft;

    @BeforeAll
    static void loadDraft() {
        otherDraft = Model.load(randomDraft(), ModelOptions.builder().threads(2).build());
        quantizedDraft = Model.load(TestFiles.checkpoint("llama-f32", "q4_0"), ModelOptions.builder().threads(2).build());
    }

    /** A one-layer random-weight model with llama-f32's tokenizer, converted by our converter. */
    private static Path randomDraft() {
        try {
            Path dir = TestFiles.outDir().resolve("speculative-random-draft-hf");
            if (!Files.isRegularFile(dir.resolve("model.safetensors"))) TinyCheckpoint.write(dir, 1024, 32, 64);
            for (String f : new String[] {"tokenizer.model", "tokenizer_config.json"}) {
                Files.copy(TestFiles.testdata("checkpoints/llama-f32/" + f), dir.resolve(f),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            return TestFiles.convert(dir, "speculative-random-draft", "f32");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void closeDraft() {
        otherDraft.close();
        quantizedDraft.close();
    }

    private static GenerateOptions.Builder greedy(int n) {
        return GenerateOptions.builder().greedy().ignoreEos(true).maxTokens(n);
    }

    /** A generation in a fresh session of model, with the session's position afterwards. */
    private record Run(Generation generation, int position) {
    }

    private static Run run(Model m, int[] promptTokens, GenerateOptions o) {
        try (Session s = m.newSession()) {
            Generation g = s.generate(promptTokens, o, null);
            return new Run(g, s.position());
        }
    }

    private static void assertSameAsAlone(Run drafted, Run alone) {
        assertThat(drafted.generation().tokens()).isEqualTo(alone.generation().tokens());
        assertThat(drafted.generation().text()).isEqualTo(alone.generation().text());
        assertThat(drafted.generation().stopReason()).isEqualTo(alone.generation().stopReason());
        assertThat(drafted.position()).as("position afterwards").isEqualTo(alone.position());
    }

    @Test
    void greedyTokensAreThoseOfTheTargetAlone() {
        Run alone = run(model, prompt, greedy(40).build());
        double quantizedAcceptance = -1;
        for (Model draft : List.of(otherDraft, model, quantizedDraft)) {
            for (int max : new int[] {1, 3, 8}) {
                Run drafted = run(model, prompt, greedy(40).draft(draft, max).build());
                assertSameAsAlone(drafted, alone);
                Timings t = drafted.generation().timings();
                assertThat(t.draftedTokens()).as("proposals").isPositive();
                assertThat(t.acceptedDraftTokens()).isBetween(0, t.draftedTokens());
                if (draft == model) {
                    // the model drafting for itself agrees except where batched and single-token logits round
                    // differently at a near tie
                    assertThat(t.acceptanceRate()).as("self-draft acceptance").isGreaterThan(0.9);
                }
                if (draft == quantizedDraft && max == 8) quantizedAcceptance = t.acceptanceRate();
            }
        }
        // some of its long rounds were cut short by a rejection after accepted proposals
        assertThat(quantizedAcceptance).as("Q4_0 draft acceptance, 8 proposals").isStrictlyBetween(0.0, 1.0);
    }

    /**
     * Each round yields its accepted proposals plus one token of the target, so after the first token (sampled
     * from the prompt) rounds = generated - 1 - accepted, and drafted / rounds is the mean proposal length.
     */
    private static double meanProposals(Timings t) {
        int rounds = t.generatedTokens() - 1 - t.acceptedDraftTokens();
        return (double) t.draftedTokens() / rounds;
    }

    @Test
    void theProposalLengthGrowsWhileAcceptedAndShrinksAfterRejections() {
        // it starts at 4: a draft that is nearly always right takes it up to the maximum of 8
        Timings agreeing = run(model, prompt, greedy(80).draft(model, 8).build()).generation().timings();
        System.out.printf("self-draft: acceptance %.2f, mean proposals %.2f%n", agreeing.acceptanceRate(), meanProposals(agreeing));
        assertThat(meanProposals(agreeing)).isGreaterThan(6);
        // a draft that is nearly always wrong brings it down towards 1
        Timings other = run(model, prompt, greedy(80).draft(otherDraft, 8).build()).generation().timings();
        System.out.printf("other draft: acceptance %.2f, mean proposals %.2f%n", other.acceptanceRate(), meanProposals(other));
        assertThat(other.acceptanceRate()).as("the other draft's acceptance").isLessThan(0.5);
        assertThat(meanProposals(other)).isLessThan(3);
    }

    @Test
    void aDraftThatKeepsMissingIsPausedAndTheOutputStaysTheTargets() {
        int n = 200;
        Run alone = run(model, prompt, greedy(n).build());
        Run drafted = run(model, prompt, greedy(n).draft(otherDraft, 8).build());
        assertSameAsAlone(drafted, alone);
        Timings t = drafted.generation().timings();
        System.out.printf("other draft over %d tokens: %d proposals, %d kept%n", n, t.draftedTokens(), t.acceptedDraftTokens());
        // without pauses a draft that always misses proposes at least one token per generated token (~200 here);
        // with pauses of 8, 16, 32, ... rounds after each miss at length 1 it proposes a few dozen at most, even if
        // some proposals happen to be kept (each kept one restarts the pauses at 8 rounds)
        assertThat(t.draftedTokens()).isLessThan(n / 4);
    }

    @Test
    void theTokenLimitEndsAsWithoutADraft() {
        for (int n : new int[] {1, 2, 3, 5, 9}) {
            Run alone = run(model, prompt, greedy(n).build());
            assertSameAsAlone(run(model, prompt, greedy(n).draft(model, 4).build()), alone);
            assertSameAsAlone(run(model, prompt, greedy(n).draft(otherDraft, 4).build()), alone);
            assertSameAsAlone(run(model, prompt, greedy(n).draft(quantizedDraft, 4).build()), alone);
        }
    }

    @Test
    void stopStringsEndAsWithoutADraft() {
        Generation whole = run(model, prompt, greedy(20).build()).generation();
        for (int at : new int[] {1, 4, 9}) {
            String stop = model.tokenizer().decode(new int[] {whole.tokens()[at]}).strip();
            if (stop.isEmpty()) continue;
            GenerateOptions o = greedy(20).stopStrings(stop).build();
            Run alone = run(model, prompt, o);
            assertThat(alone.generation().stopReason()).isEqualTo(StopReason.STOP_STRING);
            assertSameAsAlone(run(model, prompt, o.toBuilder().draft(model, 6).build()), alone);
            assertSameAsAlone(run(model, prompt, o.toBuilder().draft(otherDraft, 6).build()), alone);
            assertSameAsAlone(run(model, prompt, o.toBuilder().draft(quantizedDraft, 6).build()), alone);
        }
    }

    @Test
    void anEndOfGenerationTokenEndsAsWithoutADraft(@TempDir Path dir) throws Exception {
        Generation whole = run(model, prompt, greedy(12).build()).generation();
        int end = whole.tokens()[6];
        // the checkpoint with its seventh greedy token named an end-of-turn token: generation ends before its first
        // occurrence, which a draft of the same checkpoint proposes within a round
        Path gguf = withEndOfTurn(dir, end);
        try (Model m = Model.load(gguf, ModelOptions.builder().threads(2).build())) {
            GenerateOptions o = GenerateOptions.builder().greedy().maxTokens(12).build();
            Run alone = run(m, prompt, o);
            assertThat(alone.generation().stopReason()).isEqualTo(StopReason.EOS);
            for (int max : new int[] {2, 8}) {
                assertSameAsAlone(run(m, prompt, o.toBuilder().draft(model, max).build()), alone);
                assertSameAsAlone(run(m, prompt, o.toBuilder().draft(otherDraft, max).build()), alone);
            }
        }
    }

    @Test
    void streamingHandsOutTheSameTokens() {
        Generation alone = run(model, prompt, greedy(15).build()).generation();
        try (Session s = model.newSession();
                Stream<GeneratedToken> st = s.stream(prompt, greedy(15).draft(otherDraft, 5).build())) {
            int[] streamed = st.mapToInt(GeneratedToken::id).toArray();
            assertThat(streamed).isEqualTo(alone.tokens());
        }
    }

    @Test
    void aTimeoutEndsWithEveryReturnedTokenEvaluated() {
        // far more tokens than the time allows, within the context; a longer limit where a loaded machine spent the
        // first one on the prompt
        for (int ms : new int[] {100, 400, 1600}) {
            try (Session s = model.newSession()) {
                int n = s.contextLength() - prompt.length - 1;
                GenerateOptions o = greedy(n).draft(otherDraft, 4).timeout(Duration.ofMillis(ms)).build();
                Generation g = s.generate(prompt, o, null);
                assertThat(g.stopReason()).isEqualTo(StopReason.TIMEOUT);
                if (g.tokens().length == 0) continue;
                assertThat(s.position()).isEqualTo(prompt.length + g.tokens().length);
                Generation alone = run(model, prompt, greedy(g.tokens().length).build()).generation();
                assertThat(g.tokens()).isEqualTo(alone.tokens());
                return;
            }
        }
        throw new AssertionError("no timeout came while decoding");
    }

    @Test
    void closingTheSessionFromTheCallbackCancelsAsWithoutADraft() {
        List<Integer> seenAlone = new ArrayList<>();
        List<Integer> seenDrafted = new ArrayList<>();
        Generation alone = closeAfterThree(greedy(30).build(), seenAlone);
        Generation drafted = closeAfterThree(greedy(30).draft(model, 8).build(), seenDrafted);
        assertThat(drafted.stopReason()).isEqualTo(StopReason.CANCELLED).isEqualTo(alone.stopReason());
        assertThat(seenDrafted).isEqualTo(seenAlone).hasSize(3);
        assertThat(drafted.tokens()).isEqualTo(alone.tokens());
    }

    private static Generation closeAfterThree(GenerateOptions o, List<Integer> seen) {
        Session s = model.newSession();
        return s.generate(prompt, o, t -> {
            seen.add(t.id());
            if (seen.size() == 3) s.close();
        });
    }

    @Test
    void cancellingTheFutureStopsTheGeneration() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        // context shift: the generation never runs out of room, so only the cancellation ends it
        try (Session s = model.newSession(SessionOptions.builder().contextLength(256).contextShift(true).build())) {
            CompletableFuture<Generation> f = s.generateAsync(prompt, greedy(1_000_000).draft(otherDraft, 4).build(), ex);
            Thread.sleep(200);
            assertThat(f.cancel(true)).isTrue();
            assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
            ex.shutdown();
            assertThat(ex.awaitTermination(30, TimeUnit.SECONDS)).as("the generation stopped").isTrue();
            // the session stays usable
            assertThat(s.generate(prompt, greedy(2).build(), null).tokens()).hasSize(2);
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void aDraftOfAnotherVocabularyIsRefusedNamingTheDifference() {
        try (Model r1 = Model.load(TestFiles.checkpoint("r1-tiny-bf16", "f32"));
                Model pro = Model.load(TestFiles.checkpoint("pro-tiny-bf16", "f32"));
                Session s = model.newSession(); Session ps = pro.newSession()) {
            assertThatThrownBy(() -> s.generate(prompt, greedy(3).draft(r1, 4).build(), null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vocabulary sizes differ (1024 vs 1262)");
            // the same size (1262), another tokenizer
            int[] p = pro.tokenizer().encode("hello");
            assertThatThrownBy(() -> ps.generate(p, greedy(3).draft(r1, 4).build(), null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot propose tokens")
                    .hasMessageMatching("(?s).*(tokenizer types differ|token \\d+ is|tokens differ).*");
            assertThat(s.position()).as("nothing evaluated").isZero();
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> GenerateOptions.builder().draft(model, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxDraftTokens");
        assertThatThrownBy(() -> GenerateOptions.builder().draft(model, 65)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[1, 64]");
        assertThatThrownBy(() -> GenerateOptions.builder().draft(null, 4)).isInstanceOf(NullPointerException.class);
        try (Scheduler sch = Scheduler.create(model); Session s = model.newSession()) {
            assertThatThrownBy(() -> sch.submit(s, prompt, greedy(3).draft(model, 4).build(), null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not run speculative decoding");
        }
        GenerateOptions o = greedy(3).draft(model, 4).build();
        assertThat(o.toBuilder().noDraft().build().draft()).isNull();
        assertThat(o.toBuilder().build().maxDraftTokens()).isEqualTo(4);
        assertThat(Arrays.asList(o.draft())).containsExactly(model);
    }
}
