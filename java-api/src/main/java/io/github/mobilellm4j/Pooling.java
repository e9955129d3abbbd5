package io.github.mobilellm4j;

/** How token hidden states are reduced to one embedding vector. */
public enum Pooling {
    MEAN(0), LAST(1);

    final int code;

    Pooling(int code) {
        this.code = code;
    }
}
