package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What --ship packs for a model folder, a weights file and a hub snapshot, and the archives' contents. */
class ShippedFilesTest {
    @TempDir
    Path tmp;

    @Test
    void aFolderTravelsUnderItsNameAWeightsFileWithItsFolderAHubSnapshotUnderTheIdsName() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("my-model"));
        Path weights = Files.writeString(model.resolve("model.safetensors"), "w");
        assertEquals(new ShippedFiles.ModelCopy(model, "my-model", "jlens-model.zip/my-model"),
                ShippedFiles.ModelCopy.of(model.toString(), model));
        assertEquals(new ShippedFiles.ModelCopy(model, "my-model", "jlens-model.zip/my-model/model.safetensors"),
                ShippedFiles.ModelCopy.of(weights.toString(), weights));
        Path snapshot = Files.createDirectories(tmp.resolve("hub/models--openai-community--gpt2/snapshots/607a30d7"));
        assertEquals(new ShippedFiles.ModelCopy(snapshot, "gpt2", "jlens-model.zip/gpt2"),
                ShippedFiles.ModelCopy.of("openai-community/gpt2", snapshot));
    }

    @Test
    void anArchiveHoldsTheFolderUnderItsNameItsSubfoldersOnlyWhenRecursiveAndLinkedFilesByContent() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("snapshot"));
        Files.writeString(folder.resolve("config.json"), "{}");
        Path blob = Files.write(tmp.resolve("blob"), new byte[] {1, 2, 3});
        Files.createSymbolicLink(folder.resolve("model.safetensors"), blob);   // as the hub cache links its files
        Files.writeString(Files.createDirectories(folder.resolve("saes/a")).resolve("cfg.json"), "{\"d_sae\": 2}");

        assertEquals(Map.of("m/config.json", "{}", "m/model.safetensors", "\u0001\u0002\u0003"),
                entries(ShippedFiles.zip(folder, "m", tmp.resolve("top.zip"), false)));
        assertEquals(Map.of("m/config.json", "{}", "m/model.safetensors", "\u0001\u0002\u0003", "m/saes/a/cfg.json", "{\"d_sae\": 2}"),
                entries(ShippedFiles.zip(folder, "m", tmp.resolve("all.zip"), true)));
        assertArrayEquals(new String[] {"m/config.json", "m/model.safetensors", "m/saes/a/cfg.json"},
                names(tmp.resolve("all.zip")).toArray(), "entries in a fixed order");
    }

    private static Map<String, String> entries(Path zip) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                out.put(e.getName(), new String(z.getInputStream(e).readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    private static List<String> names(Path zip) throws IOException {
        List<String> out = new ArrayList<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            z.stream().forEach(e -> out.add(e.getName()));
        }
        return out;
    }
}
