package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.hub.HubException;
import dev.jlens.load.hub.HubSettings;
import dev.jlens.load.hub.HuggingFaceHub;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub client against servers that misbehave ({@link FakeHub}'s faults, two of them on 127.0.0.1 as
 * two hosts): redirects that would carry the token elsewhere, loop or never end; downloads that send
 * more than declared, drip or stall; ETags that are no checksum.
 */
class HubHostileServersTest {
    private static final String TOKEN = "hf_secret_token";
    private static final String[] GPT2_FILES = {"config.json", "model.safetensors", "vocab.json", "merges.txt"};

    @TempDir Path tmp;
    private FakeHub hub;
    private FakeHub other;
    private Path cache;
    private byte[] weights;
    private final ByteArrayOutputStream progress = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws IOException {
        Path fixture = TestData.file("fixtures/gpt2-tiny");
        // A 1,000-byte "LFS" file (served through the CDN) beside a small git-stored one.
        Path blobRepo = Files.createDirectories(tmp.resolve("blob-repo"));
        weights = new byte[1000];
        new Random(13).nextBytes(weights);
        Files.write(blobRepo.resolve("weights.bin"), weights);
        Files.copy(fixture.resolve("config.json"), blobRepo.resolve("config.json"));
        hub = new FakeHub().serve("openai-community/gpt2", fixture, GPT2_FILES).rename("gpt2", "openai-community/gpt2")
                .serve("someone/blob", blobRepo, "weights.bin", "config.json");
        other = new FakeHub().serve("openai-community/gpt2", fixture, GPT2_FILES);
        cache = tmp.resolve("hf-home/hub");
    }

    @AfterEach
    void stop() {
        if (hub != null) hub.close();
        if (other != null) other.close();
    }

    private HubSettings settings(String token) {
        return new HubSettings(cache, hub.endpoint(), false, token, new PrintStream(progress, true, StandardCharsets.UTF_8));
    }

    private HuggingFaceHub client() {
        return new HuggingFaceHub(settings(TOKEN));
    }

    private Path blobs(String repoFolder) {
        return cache.resolve(repoFolder).resolve("blobs");
    }

    private List<String> blobNames(String repoFolder) throws IOException {
        if (!Files.isDirectory(blobs(repoFolder))) return List.of();
        try (Stream<Path> s = Files.list(blobs(repoFolder))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---- item 1: redirects and the token ---------------------------------------------------------------

    @Test
    void theTokenGoesOnlyToTheHubNotToAnotherHostARedirectNames() throws IOException {
        hub.redirectGetsTo = other.endpoint().toString();       // 127.0.0.1, another port: another origin
        HuggingFaceHub c = client();
        for (String f : GPT2_FILES) {
            byte[] expected = Files.readAllBytes(TestData.file("fixtures/gpt2-tiny/" + f));
            assertArrayEquals(expected, Files.readAllBytes(c.file("gpt2", "main", f).orElseThrow()), f);
        }
        assertEquals(3, other.requests("GET /openai-community/gpt2/resolve/"), "the small files came from the other host: " + other.log);
        assertEquals(List.of(), other.authorized, "the other host got the token");
        assertTrue(hub.authorized.stream().anyMatch(r -> r.startsWith("HEAD ")), "the hub itself gets it: " + hub.authorized);
        assertTrue(hub.requests("GET /cdn/") == 1 && hub.authorized.stream().noneMatch(r -> r.contains("/cdn/")),
                "nor does the CDN: " + hub.authorized);
    }

    @Test
    void relativeRedirectsOnTheHubAreFollowedWithTheToken() throws IOException {
        hub.redirectGetsTo = "/hop/0";
        hub.hopsBeforeServing = 3;
        Path config = client().file("gpt2", "main", "config.json").orElseThrow();
        assertArrayEquals(Files.readAllBytes(TestData.file("fixtures/gpt2-tiny/config.json")), Files.readAllBytes(config));
        assertTrue(hub.authorized.contains("GET /hop/3/openai-community/gpt2/resolve/main/config.json"), hub.authorized.toString());
    }

    @Test
    void aRedirectLoopIsRefusedNamingTheFile() {
        hub.redirectGetsTo = "";                                 // Location: the same URL again
        var e = assertThrows(HubException.class, () -> client().file("gpt2", "main", "config.json"));
        assertTrue(e.getMessage().contains("gpt2/config.json: redirect loop") && e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
        assertEquals(1, hub.requests("GET /"), "asked once, sent back to where it was: " + hub.log);
    }

    @Test
    void anEndlessChainOfRedirectsIsCutOff() {
        hub.redirectGetsTo = "/hop/0";
        hub.hopsBeforeServing = Integer.MAX_VALUE;
        var e = assertThrows(HubException.class, () -> client().file("gpt2", "main", "config.json"));
        assertTrue(e.getMessage().contains("gpt2/config.json: more than 10 redirects"), e.getMessage());
        assertEquals(10, hub.requests("GET /hop/"), "10 redirects followed, the 11th refused: " + hub.log);
    }

    // ---- item 10: size, time, checksums ---------------------------------------------------------------

    @Test
    void aServerThatDeclaresMoreThanTheHubSaidIsRefusedBeforeWritingAnything() throws IOException {
        hub.cdnFault = FakeHub.CdnFault.FLOOD_DECLARED;
        var e = assertThrows(HubException.class, () -> client().file("someone/blob", "main", "weights.bin"));
        assertTrue(e.getMessage().contains("someone/blob/weights.bin") && e.getMessage().contains("declared 67108864 bytes")
                && e.getMessage().contains("the hub said 1000"), e.getMessage());
        assertEquals(List.of(), blobNames("models--someone--blob"));
    }

    @Test
    void aServerThatSendsMoreThanTheHubDeclaredIsStoppedAndThePartDeleted() throws IOException {
        hub.cdnFault = FakeHub.CdnFault.FLOOD_UNDECLARED;
        var e = assertThrows(HubException.class, () -> client().file("someone/blob", "main", "weights.bin"));
        assertTrue(e.getMessage().contains("someone/blob/weights.bin") && e.getMessage().contains("sent more than the 1000 bytes")
                && e.getMessage().contains("deleted"), e.getMessage());
        assertEquals(List.of(), blobNames("models--someone--blob"));
        hub.cdnFault = FakeHub.CdnFault.NONE;                    // a sane server afterwards: the file arrives whole
        assertArrayEquals(weights, Files.readAllBytes(client().file("someone/blob", "main", "weights.bin").orElseThrow()));
    }

    @Test
    void aDrippingServerIsGivenUpAtTheDeadlineFromSizeAndMinimumRate() throws IOException {
        hub.cdnFault = FakeHub.CdnFault.DRIP;                    // 10 bytes/s, for 4 s at most
        // 1,000 bytes at 10,000 bytes/s plus a 1 s timeout: the deadline falls after ~1.1 s, 1 byte per 0.1 s never idles.
        var fast = new HuggingFaceHub(settings(null).withDownloadLimits(Duration.ofSeconds(1), 10_000));
        var e = assertThrows(HubException.class, () -> fast.file("someone/blob", "main", "weights.bin"));
        assertTrue(e.getMessage().contains("someone/blob/weights.bin: only ") && e.getMessage().contains("slower than the minimum of"
                + " 10000 bytes/s") && e.getMessage().contains("JLENS_HUB_MIN_BYTES_PER_SECOND"), e.getMessage());
    }

    @Test
    void aStalledDownloadIsGivenUpAfterTheReadTimeoutAndResumes() throws IOException {
        hub.cdnFault = FakeHub.CdnFault.STALL;                   // 100 bytes, then silence for up to 10 s
        var fast = new HuggingFaceHub(settings(null).withDownloadLimits(Duration.ofSeconds(1), 10));
        var e = assertThrows(HubException.class, () -> fast.file("someone/blob", "main", "weights.bin"));
        assertTrue(e.getMessage().contains("someone/blob/weights.bin: ") && e.getMessage().contains("sent nothing for 1.00 s after 100"
                + " of 1000 bytes") && e.getMessage().contains("resume"), e.getMessage());
        hub.cdnFault = FakeHub.CdnFault.NONE;
        assertArrayEquals(weights, Files.readAllBytes(fast.file("someone/blob", "main", "weights.bin").orElseThrow()));
        assertEquals(1, hub.requests("range=bytes=100-"), hub.log.toString());
    }

    @Test
    void filesWhoseEtagsAreNoChecksumAreStoredByTheirContentWithAWarning() throws IOException {
        hub.opaqueEtag = "mirror-etag";                          // one ETag for every file, as a careless mirror might send
        HuggingFaceHub c = client();
        Path fixture = TestData.file("fixtures/gpt2-tiny");
        Map<String, byte[]> expected = Map.of("config.json", Files.readAllBytes(fixture.resolve("config.json")),
                "vocab.json", Files.readAllBytes(fixture.resolve("vocab.json")), "model.safetensors",
                Files.readAllBytes(fixture.resolve("model.safetensors")));
        for (var f : expected.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(c.file("gpt2", "main", f.getKey()).orElseThrow()), f.getKey());
        }
        assertEquals(expected.values().stream().map(FakeHub::sha256).sorted().toList(), blobNames("models--gpt2"));
        String out = progress.toString(StandardCharsets.UTF_8);
        assertEquals(3, out.split("could not be verified", -1).length - 1, out);
        assertTrue(out.contains("warning: gpt2/vocab.json: the hub's ETag \"mirror-etag\" is neither a sha256 nor a git blob sha1"), out);
        // Asked again by a fresh client, the commit's files are found in the cache, not downloaded again.
        long gets = hub.requests("GET ");
        client().file("gpt2", "main", "vocab.json").orElseThrow();
        assertEquals(gets, hub.requests("GET "), hub.log.toString());
    }

    @Test
    void aHubThatSendsNoSizeIsRefused() {
        hub.omitSize = true;
        var e = assertThrows(HubException.class, () -> client().file("gpt2", "main", "config.json"));
        assertTrue(e.getMessage().contains("without a file size") && e.getMessage().contains("bound the download of gpt2/config.json"),
                e.getMessage());
    }

    @Test
    void downloadLimitsComeFromTheEnvironment() {
        HubSettings d = HubSettings.fromEnvironment(Map.of());
        assertEquals(Duration.ofSeconds(10), d.readTimeout());
        assertEquals(32 * 1024, d.minBytesPerSecond());
        HubSettings s = HubSettings.fromEnvironment(Map.of("HF_HUB_DOWNLOAD_TIMEOUT", "2.5", "JLENS_HUB_MIN_BYTES_PER_SECOND", "1000"));
        assertEquals(Duration.ofMillis(2500), s.readTimeout());
        assertEquals(1000, s.minBytesPerSecond());
        var bad = assertThrows(IllegalArgumentException.class, () -> HubSettings.fromEnvironment(Map.of("HF_HUB_DOWNLOAD_TIMEOUT", "soon")));
        assertTrue(bad.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT='soon' is not a positive number"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HubSettings.fromEnvironment(Map.of("JLENS_HUB_MIN_BYTES_PER_SECOND", "0")));
        assertFalse(s.toString().contains("secret"));
    }
}
