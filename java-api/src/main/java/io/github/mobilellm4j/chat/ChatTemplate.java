package io.github.mobilellm4j.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.github.mobilellm4j.Model;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model's chat template (the Jinja text of GGUF's tokenizer.chat_template, or any Hugging Face
 * chat template) rendered into a prompt the way transformers' apply_chat_template renders it:
 * Jinja with trim_blocks and lstrip_blocks, loop controls, the variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} and any extra ones (such as
 * {@code tools}), and the functions {@code raise_exception(message)} and
 * {@code strftime_now(format)}.
 *
 * <p>The engine is Jinjava; where it differs from Python's Jinja the template gets Python's
 * semantics: str methods (strip/lstrip/rstrip with characters, split, startswith, endswith, upper,
 * lower, title, replace, ...), dict.get/items/keys/values, {@code [::-1]} reversal, operator
 * precedence and whitespace control (TemplatePrepass), and {@code tojson} with Python's
 * json.dumps layout. Thread-safe; immutable.
 */
public final class ChatTemplate {
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Clock clock;
    private final Jinjava jinjava;
    private final String prepared;

    private ChatTemplate(String source, String bosToken, String eosToken, Clock clock) {
        this.source = Objects.requireNonNull(source, "template");
        this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
        this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.prepared = TemplatePrepass.apply(source);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(new PythonMethodResolver(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE))
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .withMaxOutputSize(64L << 20)
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class,
                "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class,
                "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new JsonFilter());
        jinjava.getGlobalContext().registerFilter(new ReversedFilter());
        jinjava.getGlobalContext().registerFilter(new ItemFilter());
    }

    /** A template with empty BOS/EOS texts. */
    public static ChatTemplate of(String template) {
        return new ChatTemplate(template, "", "", Clock.systemDefaultZone());
    }

    /** A template whose {@code bos_token} / {@code eos_token} variables are these texts. */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return new ChatTemplate(template, bosToken, eosToken, Clock.systemDefaultZone());
    }

    /**
     * The model's template (GGUF tokenizer.chat_template) with its BOS/EOS token texts.
     *
     * @throws IllegalStateException if the model file has no chat template
     */
    public static ChatTemplate from(Model model) {
        String t = model.metadata().get("tokenizer.chat_template");
        if (t == null || t.isEmpty()) {
            throw new IllegalStateException("the model file has no chat template (metadata key tokenizer.chat_template); "
                    + "give one with ChatTemplate.of(text, bos, eos)");
        }
        var tok = model.tokenizer();
        String bos = tok.bos() >= 0 ? tok.piece(tok.bos()) : "";
        String eos = tok.eos() >= 0 ? tok.piece(tok.eos()) : "";
        return new ChatTemplate(t, bos, eos, Clock.systemDefaultZone());
    }

    /** The model's template (see {@link #from}), or empty when the model file has none. */
    public static java.util.Optional<ChatTemplate> find(Model model) {
        String t = model.metadata().get("tokenizer.chat_template");
        return t == null || t.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(from(model));
    }

    /** The same template with {@code strftime_now} reading this clock (its zone gives the local time). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(source, bosToken, eosToken, clock);
    }

    /** The template text as given. */
    public String source() {
        return source;
    }

    /** Renders the conversation; with addGenerationPrompt the text ends where the assistant's reply starts. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Objects.requireNonNull(messages, "messages");
        List<Map<String, Object>> ms = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Objects.requireNonNull(m, "message");
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            ms.add(map);
        }
        return render(ms, addGenerationPrompt, Map.of());
    }

    /**
     * Renders messages given as maps (for fields beyond role and content, such as tool_calls or
     * reasoning_content) with extra template variables (e.g. {@code tools}, {@code enable_thinking}).
     *
     * @throws IllegalArgumentException when the template raises an exception or cannot be rendered
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(variables, "variables");
        Map<String, Object> ctx = new LinkedHashMap<>(variables);
        ctx.put("messages", messages);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.putIfAbsent("bos_token", bosToken);
        ctx.putIfAbsent("eos_token", eosToken);
        RenderResult r;
        TemplateFunctions.CLOCK.set(clock);
        try {
            r = jinjava.renderForResult(prepared, ctx);
        } catch (InterpretException e) {
            throw new IllegalArgumentException("chat template: " + e.getMessage(), e);
        } finally {
            TemplateFunctions.CLOCK.remove();
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                Throwable cause = e.getException();
                while (cause != null && !(cause instanceof TemplateFunctions.RaisedException)) cause = cause.getCause();
                String msg = cause != null ? cause.getMessage() : e.getMessage();
                throw new IllegalArgumentException("chat template: " + msg + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""));
            }
        }
        return r.getOutput();
    }

    /** tojson with Python's json.dumps layout; {@code indent} as keyword or first argument. */
    private static final class JsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, args.length > 0 ? Integer.parseInt(args[0].trim()) : 0);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            return PythonJson.dumps(var, indent == null ? 0 : ((Number) indent).intValue());
        }
    }

    private static final class ReversedFilter implements Filter {
        @Override
        public String getName() {
            return "py_reversed";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonValues.reversed(var);
        }
    }

    private static final class ItemFilter implements Filter {
        @Override
        public String getName() {
            return "py_item";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonValues.item(var, Long.parseLong(args[0].trim()));
        }
    }

    /** Converts Python strftime directives; the ones transformers' templates use and a few more. */
    static String strftime(ZonedDateTime t, String format) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                b.append(c);
                continue;
            }
            char d = format.charAt(++i);
            java.util.Locale l = java.util.Locale.ENGLISH;
            switch (d) {
                case 'Y' -> b.append(String.format("%04d", t.getYear()));
                case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> b.append(String.format("%02d", t.getMonthValue()));
                case 'd' -> b.append(String.format("%02d", t.getDayOfMonth()));
                case 'H' -> b.append(String.format("%02d", t.getHour()));
                case 'I' -> b.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> b.append(String.format("%02d", t.getMinute()));
                case 'S' -> b.append(String.format("%02d", t.getSecond()));
                case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                case 'B' -> b.append(t.getMonth().getDisplayName(java.time.format.TextStyle.FULL, l));
                case 'b' -> b.append(t.getMonth().getDisplayName(java.time.format.TextStyle.SHORT, l));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.FULL, l));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(java.time.format.TextStyle.SHORT, l));
                case 'j' -> b.append(String.format("%03d", t.getDayOfYear()));
                case '%' -> b.append('%');
                default -> b.append('%').append(d);
            }
        }
        return b.toString();
    }
}
