package dev.jlens.load.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Where the token may go, and which redirects are followed: plain functions, no network. */
class RedirectRulesTest {
    private static HubHttp http(String endpoint) {
        return new HubHttp(new HubSettings(Path.of("unused"), URI.create(endpoint), false, "hf_x", null));
    }

    @Test
    void theTokenGoesOnlyToTheEndpointsSchemeHostAndPort() {
        HubHttp hf = http("https://huggingface.co");
        assertTrue(hf.mayCarryToken(URI.create("https://huggingface.co/gpt2/resolve/main/config.json")));
        assertTrue(hf.mayCarryToken(URI.create("https://HuggingFace.co:443/x")), "default port and case do not matter");
        assertFalse(hf.mayCarryToken(URI.create("http://huggingface.co/x")), "never over plain http");
        assertFalse(hf.mayCarryToken(URI.create("http://huggingface.co:443/x")), "nor plain http on port 443");
        assertFalse(hf.mayCarryToken(URI.create("https://huggingface.co:8443/x")));
        assertFalse(hf.mayCarryToken(URI.create("https://cdn-lfs.huggingface.co/x")));
        assertFalse(hf.mayCarryToken(URI.create("https://huggingface.co.evil.example/x")));
        HubHttp local = http("http://127.0.0.1:8080");
        assertTrue(local.mayCarryToken(URI.create("http://127.0.0.1:8080/a")));
        assertFalse(local.mayCarryToken(URI.create("http://127.0.0.1:8081/a")), "another port is another server");
        assertFalse(local.mayCarryToken(URI.create("http://localhost:8080/a")), "another name is another host");
    }

    @Test
    void relativeLocationsResolveAgainstTheURLThatSentThem() {
        URI from = URI.create("https://hub.example/a/resolve/main/config.json");
        RedirectChain chain = new RedirectChain(from, "a/config.json");
        assertEquals(URI.create("https://hub.example/b/resolve/main/config.json"), chain.next(from, "/b/resolve/main/config.json"));
        URI b = URI.create("https://hub.example/b/resolve/main/config.json");
        assertEquals(URI.create("https://hub.example/b/resolve/main/other.json"), chain.next(b, "other.json"));
        assertEquals(URI.create("https://cdn.example/x?sig=1"), chain.next(b, "https://cdn.example/x?sig=1"));
        assertEquals(URI.create("https://cdn2.example/y"), chain.next(b, "//cdn2.example/y"));
    }

    @Test
    void loopsDowngradesStrangeSchemesAndLongChainsAreRefused() {
        URI a = URI.create("https://hub.example/a");
        var loop = assertThrows(HubException.class, () -> {
            RedirectChain chain = new RedirectChain(a, "f.json");
            URI b = chain.next(a, "/b");
            chain.next(b, "/a");
        });
        assertTrue(loop.getMessage().startsWith("f.json: redirect loop: https://hub.example/b sent it back to https://hub.example/a"),
                loop.getMessage());
        var down = assertThrows(HubException.class, () -> new RedirectChain(a, "f.json").next(a, "http://hub.example/a2"));
        assertTrue(down.getMessage().contains("redirected to plain http"), down.getMessage());
        var file = assertThrows(HubException.class, () -> new RedirectChain(a, "f.json").next(a, "file:///etc/passwd"));
        assertTrue(file.getMessage().contains("not an http(s) URL"), file.getMessage());
        var bad = assertThrows(HubException.class, () -> new RedirectChain(a, "f.json").next(a, "http://[bad"));
        assertTrue(bad.getMessage().contains("malformed Location"), bad.getMessage());
        RedirectChain chain = new RedirectChain(a, "f.json");
        URI at = a;
        for (int i = 0; i < RedirectChain.MAX_REDIRECTS; i++) at = chain.next(at, "/hop" + i);
        URI last = at;
        var tooMany = assertThrows(HubException.class, () -> chain.next(last, "/one-more"));
        assertTrue(tooMany.getMessage().contains("more than 10 redirects from https://hub.example/a"), tooMany.getMessage());
    }
}
