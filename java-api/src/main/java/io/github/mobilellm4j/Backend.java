package io.github.mobilellm4j;

/** Where the model runs. */
public enum Backend {
    CPU(0), VULKAN(1), /** The best available GPU backend, else the CPU. */ AUTO(2);

    final int code;

    Backend(int code) {
        this.code = code;
    }

    static Backend of(int code) {
        for (Backend b : values()) {
            if (b.code == code) return b;
        }
        throw new IllegalArgumentException("unknown backend code " + code);
    }
}
