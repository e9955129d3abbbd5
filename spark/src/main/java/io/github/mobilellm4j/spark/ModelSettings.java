package io.github.mobilellm4j.spark;

import org.apache.spark.sql.internal.SQLConf;

/**
 * Which model the functions use and with how many threads, read from the Spark session's configuration on
 * the driver when a query is analysed; the values travel to the executors inside the query plan.
 *
 * @param model path of the GGUF model file, the same on every executor, or the name of a file shipped with the
 *     application (--files)
 * @param threads CPU threads of the model's engine per row being processed
 */
record ModelSettings(String model, int threads) {
    /** Path of the GGUF model file on every executor, or the name of one shipped with --files (required). */
    static final String MODEL = "spark.mobilellm.model";
    /** Engine threads per task (default: spark.task.cpus); 0 means every core of the executor's machine. */
    static final String THREADS = "spark.mobilellm.threads";
    static final String TASK_CPUS = "spark.task.cpus";

    /** The settings of the session being analysed. */
    static ModelSettings fromActiveSession() {
        return from(SQLConf.get());
    }

    static ModelSettings from(SQLConf conf) {
        String model = conf.getConfString(MODEL, "").trim();
        if (model.isEmpty()) {
            throw new IllegalArgumentException("The mobilellm functions need a model: set " + MODEL
                    + " to the path of a GGUF model file present on every executor (e.g. --conf " + MODEL
                    + "=/models/model.gguf), or to the name of one shipped with --files");
        }
        // each task gets spark.task.cpus cores from the scheduler; using that many engine threads keeps
        // (concurrent tasks x engine threads) within the executor's cores
        String threadsText = conf.getConfString(THREADS, conf.getConfString(TASK_CPUS, "1")).trim();
        int threads;
        try {
            threads = Integer.parseInt(threadsText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(THREADS + " must be an integer >= 0, got '" + threadsText + "'");
        }
        if (threads < 0) {
            throw new IllegalArgumentException(THREADS + " must be an integer >= 0, got " + threads);
        }
        return new ModelSettings(model, threads);
    }
}
