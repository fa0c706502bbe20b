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
        String deps;
        try {
            deps = Files.readString(Path.of("target/jlens.classpath")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("target/jlens.classpath is missing: build with Maven first", e);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Xmx1g");
        cmd.add("-XX:+UseSerialGC");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add("target/test-classes:target/classes:" + deps);
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return cmd;
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
