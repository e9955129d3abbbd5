package io.github.mobilellm4j.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.objects.StaticInvoke;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import scala.Function1;
import scala.Option;
import scala.Tuple3;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.BoxedUnit;

/**
 * Registers the mobilellm4j SQL functions in every Spark session built with
 * {@code spark.sql.extensions=io.github.mobilellm4j.spark.MobileLlmExtensions}:
 *
 * <ul>
 *   <li>{@code mobilellm_embed(text)}: {@code array<float>}, the text's embedding (mean pooling, L2-normalised:
 *       the vector of {@code Model.embed(text, Pooling.MEAN, true)});
 *   <li>{@code mobilellm_generate(text[, options])}: {@code struct<text: string, tokens: array<int>,
 *       stop_reason: string>}, a continuation of the text; greedy unless the options map sets a temperature;
 *   <li>{@code mobilellm_score(text)}: {@code struct<tokens: array<int>, logprobs: array<float>,
 *       total: double>}, the log-likelihood of each token given the ones before it, and their sum.
 * </ul>
 *
 * <p>The model is the GGUF file named by {@code spark.mobilellm.model} (a path present on every executor); each
 * executor JVM loads it once and shares it between its tasks. {@code spark.mobilellm.threads} sets the engine's
 * threads per task (default: {@code spark.task.cpus}). A null text gives a null result.
 */
public final class MobileLlmExtensions implements Function1<SparkSessionExtensions, BoxedUnit> {
    static final String EMBED = "mobilellm_embed";
    static final String GENERATE = "mobilellm_generate";
    static final String SCORE = "mobilellm_score";

    static final DataType EMBEDDING_TYPE = DataTypes.createArrayType(DataTypes.FloatType, false);
    static final StructType GENERATION_TYPE = new StructType()
            .add("text", DataTypes.StringType, false)
            .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
            .add("stop_reason", DataTypes.StringType, false);
    static final StructType SCORE_TYPE = new StructType()
            .add("tokens", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
            .add("logprobs", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("total", DataTypes.DoubleType, false);
    private static final MapType OPTIONS_TYPE = DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType);

    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        extensions.injectFunction(function(EMBED, "_FUNC_(text) - The embedding of text (array<float>): mean"
                + " pooling, L2-normalised.", args -> call(EMBED, "embed", EMBEDDING_TYPE, true, args, 1, 1)));
        extensions.injectFunction(function(GENERATE, "_FUNC_(text[, options]) - A continuation of text:"
                + " struct<text, tokens, stop_reason>. Options (map<string,string>): max_tokens (default 128),"
                + " temperature (default 0: greedy), top_k, top_p, min_p, seed, stop, ignore_eos.",
                args -> call(GENERATE, "generate", GENERATION_TYPE, false, args, 1, 2)));
        extensions.injectFunction(function(SCORE, "_FUNC_(text) - Log-likelihood of text: struct<tokens,"
                + " logprobs, total>, the natural log-probability of each token after the first and their sum.",
                args -> call(SCORE, "score", SCORE_TYPE, true, args, 1, 1)));
        return BoxedUnit.UNIT;
    }

    private static Tuple3<FunctionIdentifier, ExpressionInfo, Function1<Seq<Expression>, Expression>> function(
            String name, String usage, Function1<Seq<Expression>, Expression> builder) {
        return new Tuple3<>(new FunctionIdentifier(name),
                new ExpressionInfo(MobileLlmExtensions.class.getName(), null, name, usage, ""), builder);
    }

    /**
     * A call of one of {@link MobileLlmRuntime}'s static methods with the user's arguments (text cast to string,
     * options to map&lt;string,string&gt;) followed by the session's model path and thread count.
     */
    private static Expression call(String name, String method, DataType type, boolean deterministic,
            Seq<Expression> arguments, int minArgs, int maxArgs) {
        List<Expression> args = new ArrayList<>(CollectionConverters.asJava(arguments));
        if (args.size() < minArgs || args.size() > maxArgs) {
            throw new IllegalArgumentException(name + " takes " + (minArgs == maxArgs ? minArgs : minArgs + " or "
                    + maxArgs) + " argument" + (maxArgs == 1 ? "" : "s") + ", got " + args.size());
        }
        args.set(0, castTo(args.get(0), DataTypes.StringType));
        if (args.size() == 2) {
            if (!(args.get(1).dataType() instanceof MapType m) || !(m.keyType() instanceof StringType)) {
                throw new IllegalArgumentException(name + ": the options must be a map with string keys, e.g."
                        + " map('max_tokens', 32); got " + args.get(1).dataType().simpleString());
            }
            args.set(1, castTo(args.get(1), OPTIONS_TYPE));
        }
        ModelSettings settings = ModelSettings.fromActiveSession();
        args.add(Literal.create(settings.model(), DataTypes.StringType));
        args.add(Literal.create(settings.threads(), DataTypes.IntegerType));
        return new StaticInvoke(MobileLlmRuntime.class, type, method, CollectionConverters.asScala(args).toList(),
                scala.collection.immutable.List$.MODULE$.empty(), true, true, deterministic, Option.empty());
    }

    private static Expression castTo(Expression e, DataType type) {
        return e.dataType().sameType(type) ? e : new Cast(e, type, Option.empty());
    }
}
