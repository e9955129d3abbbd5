package io.github.mobilellm4j.jmh;

import io.github.mobilellm4j.Backend;
import io.github.mobilellm4j.Model;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A model loaded through the Java API for a whole trial (memory-mapped, as applications load it). Benchmark
 * scope: models are immutable and shared by threads; each thread has its own session.
 */
@State(Scope.Benchmark)
public class LoadedModel {
    public Model model;

    @Setup(Level.Trial)
    public void load(BenchParams params) {
        model = Model.load(params.path, params.modelOptions(true));
        Backend wanted = params.backendValue();
        if (wanted != Backend.AUTO && model.info().backend() != wanted) {
            Backend got = model.info().backend();
            model.close();
            throw new IllegalStateException("asked for backend " + wanted + " but the engine runs on " + got);
        }
        BenchModels.log(model.path().getFileName() + ": " + model.info().threads() + " threads, backend "
                + model.info().backend() + ", cpu level " + io.github.mobilellm4j.Engine.cpuLevel());
    }

    @TearDown(Level.Trial)
    public void close() {
        if (model != null) model.close();
    }
}
