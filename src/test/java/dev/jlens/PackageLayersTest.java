package dev.jlens;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package graph has no circles and no arrows back up: each package of {@code src/main/java/dev/jlens}
 * refers only to packages before it in {@link #LAYERS} (the order the README's layout section gives).
 */
class PackageLayersTest {
    static final List<String> LAYERS = List.of("compute", "cache", "tokenize", "model", "cli", "load", "sae", "view", "data",
            "analysis", "experiment", "spark", "train", "console");
    private static final Pattern REF = Pattern.compile("dev\\.jlens\\.([a-z]+)\\.");

    @Test
    void everyPackageDependsOnlyOnTheOnesAboveIt() throws IOException {
        Path root = Path.of("src/main/java/dev/jlens");
        List<String> wrong = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f).getName(0).toString();
                int mine = LAYERS.indexOf(pkg);
                if (mine < 0) {
                    wrong.add(f + ": package '" + pkg + "' is not in the layer list (add it to the README and to LAYERS)");
                    continue;
                }
                String code = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
                Matcher m = REF.matcher(code);
                while (m.find()) {
                    int theirs = LAYERS.indexOf(m.group(1));
                    if (theirs > mine) wrong.add(f + " refers to dev.jlens." + m.group(1) + ", which is above it");
                }
            }
        }
        assertEquals(List.of(), wrong.stream().distinct().toList());
    }
}
