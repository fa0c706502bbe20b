package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jlens.testing.ChildJvm;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone Spark cluster on 127.0.0.1, started once for these tests: a master and two workers (one core each),
 * each its own JVM on Spark's jars alone, as an installed cluster runs. Their executors (more JVMs) load the model once
 * each and write the batches, and each run's folder is the single-machine run's, byte for byte: started from this JVM
 * (jlens on the executors' class path, one task failing once and retried), and through {@code spark-submit} in client
 * and cluster mode (jlens sent with the job, {@code --ship} sending the model and the text).
 */
class StandaloneClusterTest {
    private static final int WORKERS = 2;
    /** The jar of jlens's dependencies whose arrival in an executor's folder shows that --jars sent them. */
    private static final String ND4J_NATIVE = "nd4j-native-1.0.0-M2.1-linux-x86_64.jar";

    @TempDir
    static Path cluster;
    private static final List<Process> started = new ArrayList<>();
    private static String master;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startCluster() throws Exception {
        Files.createDirectories(cluster.resolve("spark-home/jars"));   // Spark's launcher wants a $SPARK_HOME/jars
        int port = freePort(), ui = freePort();
        master = "spark://127.0.0.1:" + port;
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", Integer.toString(port),
                "--webui-port", Integer.toString(ui));
        for (int w = 0; w < WORKERS; w++) {
            Path work = Files.createDirectories(cluster.resolve("work" + w));
            start("worker" + w, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                    "--webui-port", Integer.toString(freePort()), "--work-dir", work.toString(), master);
        }
        awaitAliveWorkers(ui, WORKERS);
    }

    @AfterAll
    static void stopCluster() {
        for (Process p : started) p.destroy();   // workers end their executors as they stop
    }

    @AfterEach
    void noFailure() {
        SparkEngine.failOnceForTests = null;
    }

    @Test
    void aMasterAndTwoWorkersWriteTheSingleMachineBytes() throws Exception {
        Set<Path> before = executorFolders();
        Path marker = tmp.resolve("failed-once");
        SparkEngine.failOnceForTests = new BatchTask.FailOnce(marker.toString(), 1);
        Path out = tmp.resolve("cluster");
        String classPath = Path.of("target/test-classes").toAbsolutePath() + ":" + Path.of("target/classes").toAbsolutePath() + ":"
                + ChildJvm.classPath().substring("target/test-classes:target/classes:".length()) + ":" + ChildJvm.sparkClassPath();
        SingleMachineRun single = SingleMachineRun.get();
        single.run(out, single.spark(master, Map.of("spark.driver.host", "127.0.0.1", "spark.driver.bindAddress", "127.0.0.1",
                "spark.executor.memory", "512m", "spark.executor.cores", "1", "spark.executor.extraClassPath", classPath)));
        assertTrue(Files.exists(marker), "no task failed");
        single.assertSameAs(out);
        Set<Path> executors = new HashSet<>(executorFolders());
        executors.removeAll(before);
        // Each executor keeps its stderr in its folder under its worker's work folder.
        assertEquals(WORKERS, executors.stream().filter(e -> Files.exists(e.resolve("stderr"))).map(e -> e.getParent().getParent()).distinct()
                .count(), "not every worker ran an executor: " + executors);
    }

    /**
     * {@code spark-submit --deploy-mode client} as its script runs it (the class {@code SparkSubmit} on Spark's jars, the
     * driver in that JVM): jlens's classes as the application jar, its dependencies through {@code --jars}, no
     * {@code spark.executor.extraClassPath}, and {@code --ship}. Each executor's folder (its SparkFiles folder) holds
     * what the job sent it: jlens's jars, the model unpacked, the text.
     */
    @Test
    void sparkSubmitInClientModeShipsJlensAndItsFilesForTheSingleMachineBytes() throws Exception {
        Set<Path> before = executorFolders();
        submitAndCompare("client");
        assertEquals(WORKERS, workersWhoseNewExecutorsHold(before, ND4J_NATIVE, "jlens-model.zip/charlm-tiny/model.safetensors",
                "citizens.txt"), "not every worker's executor received the jars and the files");
    }

    /**
     * The same in cluster mode: a worker runs the driver (its one core taken, so the other worker runs the one executor),
     * which gets the application jar and {@code --jars} from spark-submit, and spark-submit waits for it to finish.
     */
    @Test
    void sparkSubmitInClusterModeRunsTheDriverOnAWorkerForTheSingleMachineBytes() throws Exception {
        Set<Path> before = executorFolders();
        submitAndCompare("cluster", "--conf", "spark.standalone.submit.waitAppCompletion=true", "--driver-memory", "512m",
                "--conf", "spark.driver.extraJavaOptions=--add-modules jdk.incubator.vector " + String.join(" ", sparkJvmArgs()));
        assertEquals(1, workersWhoseNewExecutorsHold(before, ND4J_NATIVE, "jlens-model.zip/charlm-tiny/model.safetensors",
                "citizens.txt"), "the executor did not receive the jars and the files");
        try (Stream<Path> drivers = workFolders().flatMap(StandaloneClusterTest::list)) {
            assertTrue(drivers.anyMatch(d -> d.getFileName().toString().startsWith("driver-")), "no worker ran the driver");
        }
    }

    /**
     * Runs the single-machine run's experiment through spark-submit in {@code deployMode} with {@code --engine spark
     * --ship}, and checks its exit status (0) and its folder (the single-machine bytes).
     */
    private void submitAndCompare(String deployMode, String... settings) throws Exception {
        SingleMachineRun single = SingleMachineRun.get();
        Path out = tmp.resolve("submitted");
        List<String> submit = new ArrayList<>(List.of("--master", master, "--deploy-mode", deployMode,
                "--class", "dev.jlens.experiment.ExperimentCommand", "--jars", jlensDependencies().replace(':', ','),
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.executor.memory=512m", "--conf", "spark.executor.cores=1"));
        submit.addAll(List.of(settings));
        submit.add(applicationJar().toString());
        submit.addAll(commandLine(single, out));
        submit.addAll(List.of("--engine", "spark", "--ship"));
        List<String> cmd = ChildJvm.command(sparkJvmArgs(), sparkInstallation(), "org.apache.spark.deploy.SparkSubmit",
                submit.toArray(String[]::new));
        Path log = tmp.resolve("submit.log");
        Process p = processBuilder(cmd, log).start();
        try {
            if (!p.waitFor(240, TimeUnit.SECONDS)) fail("spark-submit ran past 240 s: " + Files.readString(log));
        } finally {
            p.destroy();
        }
        assertEquals(0, p.exitValue(), "spark-submit failed: " + Files.readString(log) + driverLogs());
        single.assertSameAs(out);
    }

    /** The experiment of {@code single} as a command line: its arguments, the model it read, results into {@code out}. */
    private static List<String> commandLine(SingleMachineRun single, Path out) {
        List<String> args = new ArrayList<>(single.recipe.args());
        args.set(args.indexOf("--out") + 1, out.toString());
        args.addAll(List.of("--model", single.recipe.model()));
        return args;
    }

    /** jlens's classes in one jar, made as {@code ./jlens} makes {@code target/jlens-classes.jar} (with the jar tool). */
    private Path applicationJar() {
        Path jar = tmp.resolve("jlens-classes.jar");
        int status = ToolProvider.findFirst("jar").orElseThrow(() -> new IllegalStateException("this JDK has no jar tool"))
                .run(System.out, System.err, "--create", "--file", jar.toString(), "-C", "target/classes", ".");
        assertEquals(0, status, "the jar tool failed");
        return jar;
    }

    /** target/jlens.classpath: the jars of jlens's dependencies, as the README's recipe hands them to --jars. */
    private static String jlensDependencies() {
        return ChildJvm.classPath().substring("target/test-classes:target/classes:".length());
    }

    /**
     * Spark's jars as an installation has them: target/jlens-spark.classpath lists only those jlens does not also use,
     * so the libraries both use (SLF4J's API, Jackson, Apache Commons) come from jlens's list; the rest of it (ND4J,
     * the tokenizers, picocli, JLine) is jlens's alone, and reaches the executors only through a job.
     */
    private static String sparkInstallation() {
        String shared = Arrays.stream(jlensDependencies().split(":"))
                .filter(j -> j.matches(".*/(org/slf4j/slf4j-api|com/fasterxml/jackson/core|org/apache/commons|commons-io|commons-codec)/.*"))
                .collect(Collectors.joining(":"));
        return ChildJvm.sparkClassPath() + ":" + shared;
    }

    /** The module openings Spark needs on JDK 17+, as this JVM got them from the pom (spark.jvm.args). */
    private static List<String> sparkJvmArgs() {
        List<String> options = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) options.add(a);
        }
        return options;
    }

    /**
     * A JVM of this cluster's Spark installation (the master, a worker, spark-submit), its output in {@code log}. Spark's
     * jars are listed in SPARK_DIST_CLASSPATH, as a Hadoop-free installation lists its Hadoop; the workers give it to
     * their executors and drivers too.
     */
    private static ProcessBuilder processBuilder(List<String> cmd, Path log) {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", cluster.resolve("spark-home").toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_DIST_CLASSPATH", sparkInstallation());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().remove("JLENS_MODEL");
        return pb;
    }

    private static void start(String name, String main, String... args) {
        List<String> options = new ArrayList<>(List.of("-Xmx256m"));
        options.addAll(sparkJvmArgs());
        List<String> cmd = ChildJvm.command(options, sparkInstallation(), main, args);
        cmd.remove("-Xmx1g");
        try {
            started.add(processBuilder(cmd, cluster.resolve(name + ".log")).start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Spark " + name, e);
        }
    }

    /**
     * Polls the master's status page (JSON) until it lists {@code n} alive workers. (Its log says nothing: the shared
     * SLF4J API is jlens's 1.7, which finds no binding and logs nowhere.)
     */
    private static void awaitAliveWorkers(int uiPort, int n) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + uiPort + "/json/")).build();
        long deadline = System.nanoTime() + 120_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                last = http.send(status, HttpResponse.BodyHandlers.ofString()).body();
                if (last.split("\"state\" *: *\"ALIVE\"", -1).length - 1 >= n) return;
            } catch (IOException notYet) {
                last = notYet.toString();
            }
            for (Process p : started) if (!p.isAlive()) fail("a Spark JVM exited: " + Files.readString(cluster.resolve("master.log")));
            Thread.sleep(300);
        }
        fail("the master never listed " + n + " alive workers; its status: " + last);
    }

    private static Stream<Path> workFolders() {
        return Stream.iterate(0, w -> w < WORKERS, w -> w + 1).map(w -> cluster.resolve("work" + w));
    }

    /** Every executor's folder so far: work{N}/app-…/{executor id}. */
    private static Set<Path> executorFolders() {
        try (Stream<Path> executors = workFolders().flatMap(StandaloneClusterTest::list)
                .filter(a -> a.getFileName().toString().startsWith("app-")).flatMap(StandaloneClusterTest::list)) {
            return executors.collect(Collectors.toSet());
        }
    }

    /** How many workers ran an executor, since {@code before}, whose folder holds every one of {@code paths}. */
    private static long workersWhoseNewExecutorsHold(Set<Path> before, String... paths) {
        return executorFolders().stream().filter(e -> !before.contains(e))
                .filter(e -> Arrays.stream(paths).allMatch(f -> Files.exists(e.resolve(f))))
                .map(e -> e.getParent().getParent()).distinct().count();
    }

    /** What the drivers run on the workers (cluster mode) wrote, for a failure's message. */
    private static String driverLogs() throws IOException {
        StringBuilder s = new StringBuilder();
        for (Path d : workFolders().flatMap(StandaloneClusterTest::list).filter(d -> d.getFileName().toString().startsWith("driver-")).toList()) {
            if (Files.exists(d.resolve("stderr"))) s.append("\n").append(d).append(": ").append(Files.readString(d.resolve("stderr")));
            if (Files.exists(d.resolve("stdout"))) s.append("\n").append(Files.readString(d.resolve("stdout")));
        }
        return s.toString();
    }

    private static Stream<Path> list(Path folder) {
        try (Stream<Path> s = Files.list(folder)) {
            return s.toList().stream();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
