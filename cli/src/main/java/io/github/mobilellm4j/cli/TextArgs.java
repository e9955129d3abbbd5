package io.github.mobilellm4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The text a command works on: -p TEXT, or -f FILE where FILE "-" is standard input. */
final class TextArgs {
    static final Option PROMPT = Option.valued("-p", "--prompt");
    static final Option FILE = Option.valued("-f", "--file");
    static final List<Option> OPTIONS = List.of(PROMPT, FILE);

    private TextArgs() {
    }

    /** The -p text or the -f file's contents; null when neither is given. Both given is a usage error. */
    static String read(Args a, InputStream stdin) throws IOException {
        String text = a.get("-p");
        String file = a.get("-f");
        if (text != null && file != null) {
            throw new UsageException("give either " + a.typed("-p") + " TEXT or " + a.typed("-f") + " FILE, not both");
        }
        return file == null ? text : readFile(file, stdin);
    }

    /** A UTF-8 text file, or standard input for "-". */
    static String readFile(String file, InputStream stdin) throws IOException {
        byte[] bytes;
        if (file.equals("-")) {
            bytes = stdin.readAllBytes();
        } else {
            Path p = Path.of(file);
            if (Files.isDirectory(p)) throw new Failure(file + " is a folder, not a text file");
            if (!Files.exists(p)) throw new Failure("text file not found: " + file);
            bytes = Files.readAllBytes(p);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new Failure((file.equals("-") ? "standard input" : file) + " is not UTF-8 text");
        }
    }
}
