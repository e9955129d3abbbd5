package io.github.mobilellm4j.spark;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A Spark standalone cluster on loopback: a master and workers, each a JVM of its own started from the Spark jars
 * on this test's class path, the way {@code sbin/start-master.sh} and {@code start-worker.sh} start them. The
 * "installation" is a directory whose {@code jars/} links to those jars; the application's own classes
 * (mobilellm4j) are not in it, so executors get them only from the application's settings
 * ({@link #applicationClassPath()} for {@code spark.executor.extraClassPath}). {@link #close()} ends every JVM it
 * started, executors included. Used by the cluster tests and by the scaling benchmark (bench.ClusterScaling).
 */
public final class LoopbackCluster implements AutoCloseable {
    private static final String HOST = "127.0.0.1";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180); // a hang guard: JVM starts take minutes on a heavily loaded machine

    private final Path home;
    private final String applicationClassPath;
    private final int masterPort;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();
    /** Ends the JVMs should this JVM exit without {@link #close()} (a build killed on a timeout). */
    private final Thread exitHook = new Thread(this::destroyAllNow, "loopback-cluster-exit");

    /** Starts a master and {@code workers} workers of {@code coresPerWorker} cores each. */
    public LoopbackCluster(Path home, int workers, int coresPerWorker) throws IOException, InterruptedException {
        this.home = home;
        this.applicationClassPath = linkSparkJars(home.resolve("jars"));
        this.masterPort = freePort();
        Runtime.getRuntime().addShutdownHook(exitHook);
        try {
            master = start("master", "org.apache.spark.deploy.master.Master",
                    "--host", HOST, "--port", String.valueOf(masterPort), "--webui-port", "0");
            awaitPort(masterPort);
            for (int i = 0; i < workers; i++) {
                Path work = Files.createDirectories(home.resolve("work-" + i));
                this.workers.add(start("worker-" + i, "org.apache.spark.deploy.worker.Worker",
                        "--host", HOST, "--cores", String.valueOf(coresPerWorker), "--memory", "1g",
                        "--work-dir", work.toString(), "--webui-port", "0", masterUrl()));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public String masterUrl() {
        return "spark://" + HOST + ":" + masterPort;
    }

    /** What an application adds to its executors' class path: mobilellm4j and this module's classes. */
    public String applicationClassPath() {
        return applicationClassPath;
    }

    /** The executor JVM that worker i started for the running application, if it has one. */
    Optional<ProcessHandle> executorOf(int worker) {
        return workers.get(worker).descendants().filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(false))
                .findFirst();
    }

    /** The executor id Spark gave the executor process (its {@code --executor-id} argument). */
    static Optional<String> executorId(ProcessHandle executor) {
        String[] args = executor.info().arguments().orElse(new String[0]);
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--executor-id")) return Optional.of(args[i + 1]);
        }
        return Optional.empty();
    }

    /** Kills worker i the way a machine failure would: its executors first, then the worker, no shutdown hooks. */
    void kill(int worker) throws InterruptedException {
        destroy(workers.get(worker));
    }

    /** The worker and master logs, for a failure message. */
    public String logs() {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> files = Files.list(home)) {
            for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                b.append("==== ").append(log.getFileName()).append('\n').append(Files.readString(log));
            }
        } catch (IOException e) {
            b.append(e);
        }
        return b.toString();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            for (Process w : workers) destroy(w);
        } finally {
            if (master != null) destroy(master);
            Runtime.getRuntime().removeShutdownHook(exitHook);
        }
    }

    private void destroyAllNow() {
        List<Process> all = new ArrayList<>(workers);
        if (master != null) all.add(master);
        for (Process p : all) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private Process start(String name, String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.addAll(List.of(JavaModuleOptions.defaultModuleOptionArray()));
        command.add("-Dspark.master.rest.enabled=false"); // it would listen on the fixed port 6066
        command.add("-cp");
        command.add(home.resolve("jars") + File.separator + "*");
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(home.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SPARK_"));
        // what the worker builds its executors' command from (org.apache.spark.launcher.WorkerCommandBuilder):
        // the installation's jars/, this JDK, the Scala version of the jars
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", HOST);
        env.put("JAVA_HOME", System.getProperty("java.home"));
        return pb.start();
    }

    /**
     * Links every jar of this JVM's class path except mobilellm4j's own into jarsDir (the cluster's Spark
     * installation) and returns the rest (mobilellm4j's jars and class directories) as a class path.
     */
    private static String linkSparkJars(Path jarsDir) throws IOException {
        Files.createDirectories(jarsDir);
        List<String> application = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p) || p.getFileName().toString().startsWith("mobilellm4j")) {
                application.add(p.toString());
            } else if (Files.isRegularFile(p)) {
                Files.createSymbolicLink(jarsDir.resolve((n++) + "-" + p.getFileName()), p);
            }
        }
        return String.join(File.pathSeparator, application);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }

    private void awaitPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!master.isAlive()) throw new IllegalStateException("the Spark master exited:\n" + logs());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the Spark master did not listen on " + port + " within " + START_TIMEOUT
                + ":\n" + logs());
    }

    /** Forcibly ends p and everything it started, children first, and waits until they are gone. */
    private static void destroy(Process p) throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        tree.forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("process " + h.pid() + " did not exit", e);
            }
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) throw new IllegalStateException("process " + p.pid() + " did not exit");
    }
}
