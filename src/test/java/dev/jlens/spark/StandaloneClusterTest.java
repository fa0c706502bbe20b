package dev.jlens.spark;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone Spark cluster on 127.0.0.1: a master and two workers, each its own JVM started from the jars on the
 * class path, whose executors (two more JVMs) load the model once each and write the batches; one task fails once and is
 * retried; the folder is the single-machine run's, byte for byte.
 */
class StandaloneClusterTest {
    @TempDir
    Path tmp;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopCluster() {
        SparkEngine.failOnceForTests = null;
        for (Process p : started) p.destroy();   // workers end their executors as they stop
    }

    @Test
    void aMasterAndTwoWorkersWriteTheSingleMachineBytes() throws Exception {
        String master = startCluster(2);
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
        assertTrue(eachWorkerRanAnExecutor(2), "not every worker ran an executor");
    }

    /** The master's URL once it and {@code workers} workers (one core each) are up. */
    private String startCluster(int workers) throws Exception {
        Path home = Files.createDirectories(tmp.resolve("spark-home/jars"));   // Spark's launcher wants a $SPARK_HOME/jars
        int port = freePort(), ui = freePort();
        String url = "spark://127.0.0.1:" + port;
        start("master", "org.apache.spark.deploy.master.Master", home, "--host", "127.0.0.1", "--port", Integer.toString(port),
                "--webui-port", Integer.toString(ui));
        for (int w = 0; w < workers; w++) {
            Path work = Files.createDirectories(tmp.resolve("work" + w));
            start("worker" + w, "org.apache.spark.deploy.worker.Worker", home, "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                    "--webui-port", Integer.toString(freePort()), "--work-dir", work.toString(), url);
        }
        awaitAliveWorkers(ui, workers);
        return url;
    }

    /**
     * Polls the master's status page (JSON) until it lists {@code n} alive workers. (Its log says nothing: the class path
     * binds SLF4J to ND4J's no-op logger.)
     */
    private void awaitAliveWorkers(int uiPort, int n) throws Exception {
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
            for (Process p : started) if (!p.isAlive()) fail("a Spark JVM exited: " + Files.readString(tmp.resolve("master.log")));
            Thread.sleep(300);
        }
        fail("the master never listed " + n + " alive workers; its status: " + last);
    }

    private void start(String name, String main, Path home, String... args) {
        List<String> options = new ArrayList<>(List.of("-Xmx256m"));
        // The module openings Spark needs on JDK 17+, as this JVM got them from the pom (spark.jvm.args).
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) options.add(a);
        }
        List<String> cmd = ChildJvm.command(options, ChildJvm.classPath() + ":" + ChildJvm.sparkClassPath(), main, args);
        cmd.remove("-Xmx1g");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.getParent().toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        try {
            started.add(pb.start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Spark " + name, e);
        }
    }

    /** Each worker keeps its executor's stderr under its work folder. */
    private boolean eachWorkerRanAnExecutor(int workers) throws IOException {
        int found = 0;
        for (int w = 0; w < workers; w++) {
            try (var s = Files.walk(tmp.resolve("work" + w))) {
                if (s.anyMatch(p -> p.getFileName().toString().equals("stderr"))) found++;
            }
        }
        return found == workers;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
