package dev.jlens.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS for the test JVM: a namenode and one datanode (Hadoop's MiniDFSCluster) on 127.0.0.1, started once on first
 * use and stopped when the JVM exits. Results folders written to it are copied back to compare their bytes.
 */
public final class MiniHdfs {
    private MiniHdfs() {}

    private static MiniDFSCluster cluster;

    /** {@code hdfs://127.0.0.1:PORT}, starting the cluster if this JVM has none yet. */
    public static synchronized URI uri() {
        if (cluster == null) {
            try {
                Path base = Files.createTempDirectory("jlens-minihdfs");
                Configuration conf = new Configuration();
                conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
                conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
                MiniDFSCluster c = new MiniDFSCluster.Builder(conf, base.toFile()).numDataNodes(1).build();
                c.waitActive();
                cluster = c;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    c.shutdown();
                    deleteAll(base);
                }));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the test HDFS", e);
            }
        }
        return cluster.getURI();
    }

    /** A folder URI on it, unique to the caller. */
    public static URI folder(String name) {
        return URI.create(uri() + "/" + name + "-" + Long.toUnsignedString(System.nanoTime(), 36));
    }

    public static FileSystem fileSystem() {
        try {
            return FileSystem.get(uri(), new Configuration());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the files of HDFS folder {@code folder} into the new local folder {@code into}, byte for byte. */
    public static Path copyDown(URI folder, Path into) throws IOException {
        Files.createDirectories(into);
        FileSystem fs = fileSystem();
        for (FileStatus s : fs.listStatus(new org.apache.hadoop.fs.Path(folder))) {
            try (InputStream in = fs.open(s.getPath())) {
                Files.copy(in, into.resolve(s.getPath().getName()));
            }
        }
        return into;
    }

    private static void deleteAll(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder
        }
    }
}
