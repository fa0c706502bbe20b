package dev.jlens.bench;

import dev.jlens.compute.FloatRows;
import dev.jlens.compute.Metric;
import dev.jlens.compute.RowSimilarity;
import dev.jlens.load.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Exact k nearest rows of a saved activation matrix ({@link RowSimilarity}), for BENCHMARKS.md;
 * {@code bench/nearest_torch.py} does the same search in PyTorch over the same files.
 * <pre>bench/run NearestBenchmark --tensor NAME [--queries 1,1000] [--k 10] [--metric cosine,euclidean] [--rounds 5] FILE…</pre>
 * The matrix is the tensor {@code NAME} of each file ({@code [rows, d]}), files in the order given,
 * memory-mapped, never copied whole. Queries are rows {@code i·N/q} of the matrix itself. Prints one
 * JSON line per case (milliseconds per search: the first, then median and min of the rest), one
 * with the neighbours of the first query (to compare with the peer), and one with peak RSS.
 */
public final class NearestBenchmark {
    /** CPU time of the whole process (every thread): a figure that a busy machine barely moves. */
    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) throws Exception {
        String tensor = null;
        int[] queryCounts = {1, 1000};
        int k = 10, rounds = 5;
        List<Metric> metrics = List.of(Metric.COSINE, Metric.EUCLIDEAN);
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tensor" -> tensor = args[++i];
                case "--queries" -> queryCounts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--k" -> k = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--metric" -> metrics = Arrays.stream(args[++i].split(",")).map(s -> Metric.valueOf(s.toUpperCase(Locale.ROOT))).toList();
                default -> files.add(Path.of(args[i]));
            }
        }
        if (tensor == null || files.isEmpty()) throw new IllegalArgumentException("usage: --tensor NAME [options] FILE…");
        long t0 = System.nanoTime();
        List<org.nd4j.linalg.api.ndarray.INDArray> chunks = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) throw new IllegalArgumentException("no file " + f);
            try (SafeTensors st = SafeTensors.open(f)) {
                chunks.add(st.get(tensor));
            }
        }
        FloatRows data = FloatRows.of(chunks);
        System.out.printf(Locale.ROOT, "{\"impl\": \"jlens\", \"event\": \"open\", \"rows\": %d, \"d\": %d, \"files\": %d, \"ms\": %.1f}%n",
                data.rows(), data.width(), files.size(), (System.nanoTime() - t0) / 1e6);
        for (Metric metric : metrics) {
            for (int q : queryCounts) {
                float[][] queries = new float[q][];
                for (int j = 0; j < q; j++) queries[j] = data.row((int) ((long) j * data.rows() / q));
                double[] ms = new double[rounds + 1], cpu = new double[rounds + 1];
                List<RowSimilarity.Neighbours> found = null;
                for (int r = 0; r <= rounds; r++) {
                    long s = System.nanoTime(), c = CPU.getProcessCpuTime();
                    found = RowSimilarity.nearest(data, queries, k, metric);
                    ms[r] = (System.nanoTime() - s) / 1e6;
                    cpu[r] = (CPU.getProcessCpuTime() - c) / 1e6;
                }
                double[] rest = Arrays.copyOfRange(ms, 1, ms.length), restCpu = Arrays.copyOfRange(cpu, 1, cpu.length);
                Arrays.sort(rest);
                Arrays.sort(restCpu);
                System.out.printf(Locale.ROOT, "{\"impl\": \"jlens\", \"metric\": \"%s\", \"queries\": %d, \"k\": %d, \"first_ms\": %.1f, "
                                + "\"median_ms\": %.1f, \"min_ms\": %.1f, \"median_cpu_ms\": %.1f, \"rounds\": %d}%n",
                        metric.name().toLowerCase(Locale.ROOT), q, k, ms[0], rest[rest.length / 2], rest[0], restCpu[restCpu.length / 2], rounds);
                System.out.printf(Locale.ROOT, "{\"impl\": \"jlens\", \"metric\": \"%s\", \"queries\": %d, \"first_query_rows\": %s}%n",
                        metric.name().toLowerCase(Locale.ROOT), q, Arrays.toString(found.get(0).rows()));
            }
        }
        System.out.printf(Locale.ROOT, "{\"impl\": \"jlens\", \"event\": \"end\", \"peak_rss_mb\": %.0f}%n", peakRssMb());
    }

    /** VmHWM of this process: the most resident memory it held, heap, native and mapped file pages alike. */
    static double peakRssMb() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
        }
        return Double.NaN;
    }
}
