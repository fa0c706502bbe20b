package dev.jlens.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a fresh JVM running a main class of this build (main and test classes, the
 * dependencies Maven wrote to {@code target/jlens.classpath}), as the launcher starts one: for tests
 * that need a cold JIT, two separate processes, or a real {@code kill -9}.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** {@code java [jvmOptions] -cp … main args}, from the repository root. */
    public static List<String> command(List<String> jvmOptions, Class<?> main, String... args) {
        return command(jvmOptions, classPath(), main.getName(), args);
    }

    /** The same with another class path, e.g. {@link #classPath()} plus {@link #sparkClassPath()}. */
    public static List<String> command(List<String> jvmOptions, String classPath, String main, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Xmx1g");
        cmd.add("-XX:+UseSerialGC");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(main);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** This build's classes and test classes and the console's dependencies (as ./jlens has them). */
    public static String classPath() {
        return "target/test-classes:target/classes:" + read("target/jlens.classpath");
    }

    /** Spark and its dependencies, which the pom keeps apart from the console's class path. */
    public static String sparkClassPath() {
        return read("target/jlens-spark.classpath");
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(file + " is missing: build with Maven first", e);
        }
    }

    /** Starts it with stdout and stderr sent to {@code log} (read it after the process ends). */
    public static Process start(List<String> command, Path log) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }
}
