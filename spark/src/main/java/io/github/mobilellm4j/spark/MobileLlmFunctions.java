package io.github.mobilellm4j.spark;

import static org.apache.spark.sql.functions.call_function;

import org.apache.spark.sql.Column;

/**
 * The mobilellm4j SQL functions as {@link Column}s for the Dataset API, e.g.
 * {@code texts.select(MobileLlmFunctions.embed(col("text")))}. The session must have been built with
 * {@code spark.sql.extensions=io.github.mobilellm4j.spark.MobileLlmExtensions} (see {@link MobileLlmExtensions}).
 */
public final class MobileLlmFunctions {
    private MobileLlmFunctions() {
    }

    /** {@code mobilellm_embed(text)}: array&lt;float&gt;. */
    public static Column embed(Column text) {
        return call_function(MobileLlmExtensions.EMBED, text);
    }

    /** {@code mobilellm_generate(text)}: struct&lt;text, tokens, stop_reason&gt;, greedy, at most 128 tokens. */
    public static Column generate(Column text) {
        return call_function(MobileLlmExtensions.GENERATE, text);
    }

    /** {@code mobilellm_generate(text, options)} with a map&lt;string,string&gt; of options. */
    public static Column generate(Column text, Column options) {
        return call_function(MobileLlmExtensions.GENERATE, text, options);
    }

    /** {@code mobilellm_score(text)}: struct&lt;tokens, logprobs, total&gt;. */
    public static Column score(Column text) {
        return call_function(MobileLlmExtensions.SCORE, text);
    }
}
