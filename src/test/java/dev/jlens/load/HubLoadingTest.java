package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.load.hub.HubException;
import dev.jlens.load.hub.HubSettings;
import dev.jlens.load.hub.HuggingFaceHub;
import dev.jlens.model.Gpt2GoldenTestAccess;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models by Hugging Face name: the hub cache layout, downloads from a local stand-in for the hub
 * ({@link FakeHub}) serving the gpt2-tiny fixture as {@code openai-community/gpt2} (with {@code gpt2}
 * renamed to it, as on the real hub), resuming, checksums, offline mode.
 */
class HubLoadingTest {
    private static final String[] GPT2_FILES = {"config.json", "model.safetensors", "vocab.json", "merges.txt"};

    @TempDir Path tmp;
    private FakeHub fake;
    private Path cache;
    private final ByteArrayOutputStream progress = new ByteArrayOutputStream();
    private JsonNode golden;

    @BeforeEach
    void start() throws IOException {
        Path fixture = TestData.file("fixtures/gpt2-tiny");
        golden = Golden.read(fixture.resolve("golden.json"));
        fake = new FakeHub().serve("openai-community/gpt2", fixture, GPT2_FILES).rename("gpt2", "openai-community/gpt2");
        cache = tmp.resolve("hf-home/hub");
    }

    @AfterEach
    void stop() {
        if (fake != null) fake.close(); // null when set-up was skipped or failed: teardown must not add an error
    }

    private HuggingFaceHub hub(boolean offline) {
        return new HuggingFaceHub(new HubSettings(cache, fake.endpoint(), offline, null, new PrintStream(progress, true, StandardCharsets.UTF_8)));
    }

    private Path repoDir(String folder) {
        return cache.resolve(folder);
    }

    @Test
    void gpt2IsDownloadedIntoTheHubCacheLayoutAndMatchesTheGoldenValues() throws IOException {
        HookedTransformer model = ModelLoader.load("gpt2", hub(false));
        Gpt2GoldenTestAccess.assertMatchesGolden(model, golden);
        assertEquals("gpt2", model.cfg().modelName());

        Path repo = repoDir("models--gpt2");
        assertEquals(FakeHub.COMMIT, Files.readString(repo.resolve("refs/main")));
        Path snapshot = repo.resolve("snapshots/" + FakeHub.COMMIT);
        Path fixture = TestData.file("fixtures/gpt2-tiny");
        for (String f : GPT2_FILES) {
            Path pointer = snapshot.resolve(f);
            assertTrue(Files.isSymbolicLink(pointer), f + " is a link into blobs/");
            byte[] bytes = Files.readAllBytes(fixture.resolve(f));
            String blob = FakeHub.isLfs(f) ? FakeHub.sha256(bytes) : FakeHub.gitBlobSha1(bytes);
            assertEquals(Path.of("../../blobs/" + blob), Files.readSymbolicLink(pointer));
            assertTrue(Files.exists(repo.resolve("blobs/" + blob)));
        }
        try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
            assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }
        // Files after the first are asked for at the pinned commit, so all come from one revision.
        assertTrue(fake.requests("HEAD /gpt2/resolve/main/config.json") == 1, fake.log.toString());
        assertTrue(fake.requests("/resolve/" + FakeHub.COMMIT + "/model.safetensors") >= 1, fake.log.toString());
        String bar = progress.toString(StandardCharsets.UTF_8);
        assertTrue(bar.contains("gpt2/model.safetensors") && bar.contains("100%"), bar);
    }

    @Test
    void aCachedModelLoadsWithoutTheNetworkAndOffline() {
        ModelLoader.load("gpt2", hub(false));
        fake.close();                                    // the hub is gone
        int before = fake.log.size();
        Gpt2GoldenTestAccess.assertMatchesGolden(ModelLoader.load("gpt2", hub(false)), golden);
        Gpt2GoldenTestAccess.assertMatchesGolden(ModelLoader.load("gpt2", hub(true)), golden);
        // Where it was read from (what --ship copies to Spark's executors): the snapshot folder, which loads the same.
        Path snapshot = ModelLoader.location("gpt2", hub(true));
        assertEquals(repoDir("models--gpt2").resolve("snapshots/" + FakeHub.COMMIT), snapshot);
        Gpt2GoldenTestAccess.assertMatchesGolden(ModelLoader.load(snapshot), golden);
        assertEquals(before, fake.log.size());
    }

    @Test
    void offlineWithoutACacheSaysWhatToDoAndTouchesNoNetwork() {
        var e = assertThrows(HubException.class, () -> ModelLoader.load("gpt2", hub(true)));
        assertTrue(e.getMessage().contains("gpt2/config.json is not in the Hugging Face cache") && e.getMessage().contains("HF_HUB_OFFLINE"),
                e.getMessage());
        assertTrue(fake.log.isEmpty(), fake.log.toString());
    }

    @Test
    void anInterruptedDownloadResumesWithARangeRequest() throws IOException {
        fake.cutNextDownloadAfter = 5_000_000;
        var e = assertThrows(HubException.class, () -> ModelLoader.load("gpt2", hub(false)));
        assertTrue(e.getMessage().contains("gpt2/model.safetensors") && e.getMessage().contains("resume"), e.getMessage());
        Path blobs = repoDir("models--gpt2").resolve("blobs");
        byte[] weights = Files.readAllBytes(TestData.file("fixtures/gpt2-tiny/model.safetensors"));
        Path part = blobs.resolve(FakeHub.sha256(weights) + ".incomplete");
        // The cut connection may lose the last bytes in flight (a reset discards the receive buffer):
        // what counts is that the partial file keeps what arrived and the resume asks for the rest.
        long kept = Files.size(part);
        assertTrue(kept > 0 && kept <= 5_000_000, "partial file of " + kept + " bytes");
        assertFalse(Files.exists(repoDir("models--gpt2").resolve("snapshots/" + FakeHub.COMMIT + "/model.safetensors")));

        Gpt2GoldenTestAccess.assertMatchesGolden(ModelLoader.load("gpt2", hub(false)), golden);
        assertEquals(1, fake.requests("range=bytes=" + kept + "-"), fake.log.toString());
        assertFalse(Files.exists(part));
    }

    @Test
    void aCorruptedDownloadFailsItsChecksumAndIsNotKept() throws IOException {
        fake.corrupt.add("model.safetensors");
        var e = assertThrows(HubException.class, () -> ModelLoader.load("gpt2", hub(false)));
        assertTrue(e.getMessage().contains("gpt2/model.safetensors") && e.getMessage().contains("sha256")
                && e.getMessage().contains("corrupted and has been deleted"), e.getMessage());
        Path repo = repoDir("models--gpt2");
        assertFalse(Files.exists(repo.resolve("snapshots/" + FakeHub.COMMIT + "/model.safetensors")));
        try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
            List<String> names = blobs.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.endsWith(".incomplete")), names.toString());
            byte[] weights = Files.readAllBytes(TestData.file("fixtures/gpt2-tiny/model.safetensors"));
            assertFalse(names.contains(FakeHub.sha256(weights)), names.toString());
        }
        // A small git-stored file is checked against its git blob sha1.
        fake.corrupt.clear();
        fake.corrupt.add("vocab.json");
        var git = assertThrows(HubException.class, () -> ModelLoader.load("gpt2", hub(false)));
        assertTrue(git.getMessage().contains("gpt2/vocab.json") && git.getMessage().contains("git blob sha1"), git.getMessage());
        // Once the hub serves good bytes, the next call succeeds.
        fake.corrupt.clear();
        Gpt2GoldenTestAccess.assertMatchesGolden(ModelLoader.load("gpt2", hub(false)), golden);
    }

    @Test
    void pytorchWeightsAndATokenizerJsonFromTheHubLoadToo() throws IOException {
        // A repository with pytorch_model.bin instead of model.safetensors, and tokenizer.json instead of vocab/merges.
        Path fixture = TestData.file("fixtures/gpt2-tiny");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.copy(fixture.resolve("config.json"), src.resolve("config.json"));
        Map<String, Object> sd = new LinkedHashMap<>();
        int key = 0;
        try (SafeTensors st = SafeTensors.open(fixture.resolve("model.safetensors"))) {
            for (String n : st.names()) sd.put(n, TorchFileWriter.tensor(String.valueOf(key++), st.copy(n)));
        }
        TorchFileWriter.save(src.resolve("pytorch_model.bin"), new TorchFileWriter.OrderedDict(sd));
        Files.writeString(src.resolve("tokenizer.json"), tokenizerJson(fixture));
        fake.serve("someone/tiny-bin", src, "config.json", "pytorch_model.bin", "tokenizer.json");
        HookedTransformer model = ModelLoader.load("someone/tiny-bin", hub(false));
        Gpt2GoldenTestAccess.assertMatchesGolden(model, golden);
        assertTrue(Files.exists(repoDir("models--someone--tiny-bin").resolve(".no_exist/" + FakeHub.COMMIT + "/model.safetensors")));
        assertEquals(0, fake.requests("/vocab.json"), "tokenizer.json is asked for first, and is there: vocab.json is not needed");
        assertEquals(0, fake.requests("/merges.txt"));
    }

    private static String tokenizerJson(Path fixture) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = json.createObjectNode();
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false);
        root.putArray("added_tokens").addObject().put("id", 50256).put("content", "<|endoftext|>").put("special", true);
        var model = root.putObject("model").put("type", "BPE");
        model.set("vocab", json.readTree(fixture.resolve("vocab.json").toFile()));
        var merges = model.putArray("merges");
        for (String line : Files.readAllLines(fixture.resolve("merges.txt"))) if (!line.startsWith("#") && !line.isEmpty()) merges.add(line);
        return json.writeValueAsString(root);
    }

    @Test
    void unknownRepositoriesAndRevisionsAreNamed() {
        var e = assertThrows(HubException.class, () -> ModelLoader.load("nobody/nothing", hub(false)));
        assertTrue(e.getMessage().contains("no model repository 'nobody/nothing'"), e.getMessage());
        assertTrue(e.getMessage().contains("no file or folder at"), "an owner/name may be a mistyped path: " + e.getMessage());
        fake.serve("someone/no-weights", TestData.file("fixtures/gpt2-tiny"), "config.json", "vocab.json", "merges.txt");
        var noWeights = assertThrows(HubException.class, () -> ModelLoader.load("someone/no-weights", hub(false)));
        assertTrue(noWeights.getMessage().contains("none of model.safetensors, model.safetensors.index.json or pytorch_model.bin"), noWeights.getMessage());
    }

    @Test
    void anExistingPathWinsOverAHubName() {
        HuggingFaceHub unusable = new HuggingFaceHub(new HubSettings(cache, URI.create("http://127.0.0.1:1"), false, null, null));
        String dir = TestData.file("fixtures/gpt2-tiny").toString();
        assertEquals("gpt2-tiny", ModelLoader.load(dir, unusable).cfg().modelName());
        var e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.load("missing/model.safetensors", unusable));
        assertTrue(e.getMessage().contains("no model at"), e.getMessage());
        var down = assertThrows(HubException.class, () -> ModelLoader.load("gpt2", unusable));
        assertTrue(down.getMessage().contains("cannot reach http://127.0.0.1:1"), down.getMessage());
    }

    @Test
    void aSnapshotCachedUnderTheCanonicalNameIsFoundOffline() throws IOException {
        // transformers ≥ 4.4x downloads "gpt2" as openai-community/gpt2; both spellings are looked for.
        Path repo = repoDir("models--openai-community--gpt2");
        Path snapshot = Files.createDirectories(repo.resolve("snapshots/" + FakeHub.COMMIT));
        for (String f : GPT2_FILES) Files.copy(TestData.file("fixtures/gpt2-tiny/" + f), snapshot.resolve(f));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), FakeHub.COMMIT);
        Gpt2GoldenTestAccess.assertMatchesGolden(ModelLoader.load("gpt2", hub(true)), golden);
    }

    @Test
    void settingsComeFromTheSameEnvironmentVariablesAsHuggingfaceHub() {
        HubSettings d = HubSettings.fromEnvironment(Map.of());
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"), d.cacheDir());
        assertEquals(URI.create("https://huggingface.co"), d.endpoint());
        assertFalse(d.offline());
        HubSettings s = HubSettings.fromEnvironment(Map.of("HF_HOME", "/data/hf", "HF_HUB_OFFLINE", "1",
                "HF_ENDPOINT", "https://hf-mirror.example/", "HF_TOKEN", "hf_secret"));
        assertEquals(Path.of("/data/hf/hub"), s.cacheDir());
        assertEquals(URI.create("https://hf-mirror.example"), s.endpoint());
        assertTrue(s.offline());
        assertEquals("hf_secret", s.token());
        assertFalse(s.toString().contains("hf_secret"), "the token is never printed");
        assertEquals(Path.of("/elsewhere"), HubSettings.fromEnvironment(Map.of("HF_HOME", "/data/hf", "HF_HUB_CACHE", "/elsewhere")).cacheDir());
        assertEquals(Path.of("/xdg/huggingface/hub"), HubSettings.fromEnvironment(Map.of("XDG_CACHE_HOME", "/xdg")).cacheDir());
        assertFalse(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0")).offline());
        assertTrue(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", "yes")).offline());
    }

    @Test
    void repositoryIdsAreTellableFromPaths() {
        for (String ok : List.of("gpt2", "gpt2-xl", "distilgpt2", "openai-community/gpt2", "EleutherAI/pythia-70m", "a.b_c")) {
            assertTrue(HuggingFaceHub.isRepoId(ok), ok);
        }
        for (String no : List.of("/abs/path", "./gpt2", "../gpt2", "a/b/c", "a--b", "", "gpt2/", "x/.", "with space")) {
            assertFalse(HuggingFaceHub.isRepoId(no), no);
        }
    }
}
