package io.github.mobilellm4j;

/** Element type of the session's KV cache. */
public enum KvCacheType {
    F16(0), F32(1);

    final int code;

    KvCacheType(int code) {
        this.code = code;
    }
}
