package io.github.mobilellm4j.cli;

import io.github.mobilellm4j.GenerateOptions;
import io.github.mobilellm4j.MobileLlmException;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Session;
import io.github.mobilellm4j.chat.ChatMessage;
import io.github.mobilellm4j.chat.ChatReply;
import io.github.mobilellm4j.chat.ChatSession;
import io.github.mobilellm4j.chat.ChatTemplate;
import io.github.mobilellm4j.sampling.SamplerOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * chat: an interactive conversation through the model's chat template. Each reply reuses the KV cache
 * of the conversation so far; /reset starts over, /exit (or end of input) quits.
 */
final class ChatCommand implements Command {
    @Override
    public String name() {
        return "chat";
    }

    @Override
    public String summary() {
        return "chat with a model through its chat template (interactive)";
    }

    @Override
    public String usage() {
        return """
                usage: mobilellm chat -m FILE [options]
                Type a message and press Enter; the reply streams as it is generated. Commands:
                /reset forgets the conversation (the system prompt stays), /exit quits (as does end of input).
                  --system TEXT          system prompt
                  -n, --n-predict N      most tokens per reply (default 1024)
                  --hide-reasoning       do not print the model's reasoning (<think>...</think>)
                """ + GenerateCommand.SAMPLER_USAGE + ModelArgs.USAGE;
    }

    @Override
    public List<Option> options() {
        List<Option> o = new ArrayList<>(GenerateCommand.SAMPLER_OPTIONS);
        o.add(Option.valued("--system"));
        o.add(Option.valued("-n", "--n-predict"));
        o.add(Option.flag("--hide-reasoning"));
        return ModelArgs.with(o.toArray(Option[]::new));
    }

    @Override
    public int run(Args a, Streams io) throws Exception {
        GenerateOptions.Builder ob = GenerateOptions.builder().sampler(GenerateCommand.sampler(a)).maxTokens(1024);
        a.withInt("-n", ob::maxTokens);
        GenerateOptions options = ob.build();
        String system = a.get("--system");
        boolean showReasoning = !a.has("--hide-reasoning");
        PrintStream out = io.out();
        try (Model model = ModelArgs.load(a, false, io); Session session = model.newSession();
                LineInput input = LineInput.open(io, "> ")) {
            ChatSession chat = new ChatSession(session, template(model, a.get("-m")));
            SamplerOptions sampling = options.sampler();
            if (!sampling.isGreedy()) io.err().println("mobilellm: sampler seed: " + sampling.seed());
            List<ChatMessage> conversation = new ArrayList<>();
            if (system != null) conversation.add(ChatMessage.system(system));
            for (String line; (line = input.readLine()) != null; ) {
                String text = line.strip();
                if (text.isEmpty()) continue;
                if (text.equals("/exit") || text.equals("/quit")) break;
                if (text.equals("/reset")) {
                    conversation.subList(system != null ? 1 : 0, conversation.size()).clear();
                    chat.reset();
                    io.err().println("mobilellm: conversation reset");
                    continue;
                }
                conversation.add(ChatMessage.user(text));
                ChatReply reply;
                try {
                    reply = chat.reply(conversation, options, new ReplyPrinter(out, showReasoning));
                } catch (MobileLlmException e) { // e.g. the conversation outgrew the context: the session stays usable
                    out.println();
                    io.err().println("mobilellm: " + e.getMessage() + " (the message was dropped; /reset starts over)");
                    conversation.remove(conversation.size() - 1);
                    continue;
                }
                out.println();
                conversation.add(reply.message());
            }
        }
        return 0;
    }

    /** Prints a streamed reply: the reasoning (unless hidden) after "[thinking]", then the answer after "[answer]". */
    static final class ReplyPrinter implements Consumer<ChatSession.Chunk> {
        private final PrintStream out;
        private final boolean showReasoning;
        private boolean inReasoning;

        ReplyPrinter(PrintStream out, boolean showReasoning) {
            this.out = out;
            this.showReasoning = showReasoning;
        }

        @Override
        public void accept(ChatSession.Chunk c) {
            if (showReasoning && !c.reasoning().isEmpty()) {
                if (!inReasoning) out.print("[thinking] ");
                inReasoning = true;
                out.print(c.reasoning());
            }
            if (!c.answer().isEmpty()) {
                if (inReasoning) out.print("\n[answer] ");
                inReasoning = false;
                out.print(c.answer());
            }
            out.flush();
        }
    }

    /** The model's chat template; a file without one (file: -m, null for the demo model) is a failure that says so. */
    static ChatTemplate template(Model model, String file) {
        if (model.metadata().getOrDefault("tokenizer.chat_template", "").isEmpty()) {
            throw new Failure((file != null ? file : "the demo model") + " has no chat template (tokenizer.chat_template): chat needs a chat model, "
                    + "or use generate -p without --chat");
        }
        return ChatTemplate.from(model);
    }
}
