package io.github.mobilellm4j.spring.ai;

import io.github.mobilellm4j.Model;

/** The name a model's responses carry. */
final class Names {
    private Names() {
    }

    /** GGUF general.name, else the file name. */
    static String of(Model model) {
        String n = model.info().name();
        return n == null || n.isBlank() ? String.valueOf(model.path().getFileName()) : n;
    }
}
