package io.github.mobilellm4j.jmh.report;

import io.github.mobilellm4j.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/** What the benchmarks ran on: CPU, its SIMD flags, cores, memory, measured bandwidth, software versions. */
public final class MachineInfo {
    /** The CPU flags that matter to the kernels, in this order, when present. */
    private static final List<String> INTERESTING_FLAGS = List.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni",
            "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8",
            "amx_bf16", "asimd", "asimddp", "sve", "i8mm", "bf16");

    private MachineInfo() {
    }

    /** Collects everything into an ordered map (written as machine.json and rendered in the report). */
    public static Map<String, Object> collect(boolean measureBandwidth) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        Map<String, String> cpu = cpuinfo();
        m.put("cpu_model", cpu.getOrDefault("model name", cpu.getOrDefault("Model", System.getProperty("os.arch"))));
        m.put("logical_cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu_flags", String.join(" ", interestingFlags(cpu.getOrDefault("flags", cpu.getOrDefault("Features", "")))));
        m.put("memory_gib", memTotalGiB());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch")
                + osRelease());
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        try {
            m.put("engine_version", Engine.version());
            m.put("engine_cpu_level", Engine.cpuLevel());
            m.put("engine_cpu_features", Engine.cpuFeatures());
        } catch (Throwable e) {
            m.put("engine_version", "unavailable: " + e);
        }
        m.put("git_commit", command(List.of("git", "rev-parse", "--short", "HEAD")));
        m.put("git_dirty", !command(List.of("git", "status", "--porcelain", "--untracked-files=no")).isEmpty());
        if (measureBandwidth) {
            int cores = Runtime.getRuntime().availableProcessors();
            List<Map<String, Object>> bw = new ArrayList<>();
            Set<Integer> threadCounts = new TreeSet<>(List.of(1, cores));
            for (int t : threadCounts) {
                try {
                    MemoryBandwidth.Result r = MemoryBandwidth.measure(t);
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("threads", t);
                    e.put("read_gb_s", round1(r.readGBs()));
                    e.put("copy_gb_s", round1(r.copyGBs()));
                    bw.add(e);
                } catch (Exception | OutOfMemoryError e) {
                    System.err.println("[bench-report] memory bandwidth with " + t + " threads failed: " + e);
                }
            }
            m.put("memory_bandwidth", bw);
        }
        return m;
    }

    static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** The first processor's fields of /proc/cpuinfo (empty elsewhere). */
    private static Map<String, String> cpuinfo() {
        Map<String, String> fields = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    if (line.isBlank() && !fields.isEmpty()) break; // end of the first processor
                    continue;
                }
                fields.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: leave empty
        }
        return fields;
    }

    private static List<String> interestingFlags(String flags) {
        Set<String> have = new LinkedHashSet<>(List.of(flags.toLowerCase(Locale.ROOT).split("\\s+")));
        List<String> out = new ArrayList<>();
        for (String f : INTERESTING_FLAGS) {
            if (have.contains(f)) out.add(f);
        }
        return out;
    }

    private static double memTotalGiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return round1(kb / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return round1(Runtime.getRuntime().maxMemory() / 1024.0 / 1024.0 / 1024.0);
    }

    private static String osRelease() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (line.startsWith("PRETTY_NAME=")) return " (" + line.substring(12).replace("\"", "") + ")";
            }
        } catch (IOException | RuntimeException ignored) {
            // unknown distribution
        }
        return "";
    }

    /** Runs a short read-only command; its trimmed output, or "" on any failure. */
    static String command(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return "";
            return out;
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }
}
