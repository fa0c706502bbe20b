package dev.jlens.spark;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * The Hadoop settings of a run: each Spark setting {@code spark.hadoop.KEY=VALUE} (from {@code --conf}, or spark-submit's
 * system properties) as Hadoop's {@code KEY=VALUE}, over the {@code core-site.xml} the class path or
 * {@code HADOOP_CONF_DIR} provides, as Spark itself passes them to Hadoop. Serializable, so the driver's settings reach
 * every executor and both sides open the results folder the same way (a namenode, S3 credentials, an endpoint).
 *
 * @param values Hadoop's keys (without the {@code spark.hadoop.} prefix), sorted
 */
record HadoopSettings(Map<String, String> values) implements Serializable {
    private static final String PREFIX = "spark.hadoop.";

    HadoopSettings {
        values = Map.copyOf(values);
    }

    /** The {@code spark.hadoop.*} settings of {@code conf}. */
    static HadoopSettings of(SparkConf conf) {
        Map<String, String> values = new TreeMap<>();
        for (Tuple2<String, String> kv : conf.getAllWithPrefix(PREFIX)) values.put(kv._1(), kv._2());
        return new HadoopSettings(values);
    }

    /** Spark's system properties (spark-submit's settings) with {@code settings} over them. */
    static HadoopSettings of(Map<String, String> settings) {
        SparkConf conf = new SparkConf();
        settings.forEach(conf::set);
        return of(conf);
    }

    Configuration configuration() {
        Configuration c = new Configuration();
        values.forEach(c::set);
        return c;
    }
}
