package io.github.mobilellm4j.spark;

import io.github.mobilellm4j.Generation;
import io.github.mobilellm4j.Model;
import io.github.mobilellm4j.Pooling;
import io.github.mobilellm4j.Session;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.MapData;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * What the SQL functions run on the executors, one row per call, in Spark's internal value types (the query
 * plan calls these static methods directly). The model path and thread count come as arguments, from the
 * session that planned the query. Not API.
 */
public final class MobileLlmRuntime {
    private MobileLlmRuntime() {
    }

    /** {@code mobilellm_embed}: {@link Model#embed} with mean pooling, L2-normalised. */
    public static ArrayData embed(UTF8String text, UTF8String model, int threads) {
        float[] vector = ExecutorModels.get(model.toString(), threads).embed(text.toString(), Pooling.MEAN, true);
        return UnsafeArrayData.fromPrimitiveArray(vector);
    }

    /** {@code mobilellm_generate(text)}: greedy, at most 128 tokens. */
    public static InternalRow generate(UTF8String text, UTF8String model, int threads) {
        return generation(ExecutorModels.generations(model.toString(), threads)
                .complete(text.toString(), GenerationSettings.defaults(), null));
    }

    /** {@code mobilellm_generate(text, options)}. */
    public static InternalRow generate(UTF8String text, MapData options, UTF8String model, int threads) {
        return generation(ExecutorModels.generations(model.toString(), threads)
                .complete(text.toString(), GenerationSettings.parse(toMap(options)), null));
    }

    /**
     * {@code mobilellm_score}: the text's tokens (BOS added per the model's setting) after the first, the natural
     * log-probability of each given the ones before it, and their sum. A text of one token has nothing to score:
     * empty arrays and a total of 0.
     */
    public static InternalRow score(UTF8String text, UTF8String model, int threads) {
        Model m = ExecutorModels.get(model.toString(), threads);
        int[] tokens = m.tokenizer().encode(text.toString());
        int n = Math.max(0, tokens.length - 1);
        int[] scored = new int[n];
        float[] logprobs = new float[n];
        double total = 0;
        if (n > 0) {
            float[] nll;
            try (Session s = m.newSession()) {
                nll = s.score(tokens);
            }
            System.arraycopy(tokens, 1, scored, 0, n);
            for (int i = 0; i < n; i++) {
                logprobs[i] = -nll[i];
                total += logprobs[i];
            }
        }
        return new GenericInternalRow(new Object[] {UnsafeArrayData.fromPrimitiveArray(scored),
                UnsafeArrayData.fromPrimitiveArray(logprobs), total});
    }

    private static InternalRow generation(Generation g) {
        return new GenericInternalRow(new Object[] {UTF8String.fromString(g.text()),
                UnsafeArrayData.fromPrimitiveArray(g.tokens()), UTF8String.fromString(g.stopReason().jsonName())});
    }

    private static Map<String, String> toMap(MapData data) {
        ArrayData keys = data.keyArray();
        ArrayData values = data.valueArray();
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < data.numElements(); i++) {
            map.put(keys.getUTF8String(i).toString(), values.isNullAt(i) ? null : values.getUTF8String(i).toString());
        }
        return map;
    }
}
