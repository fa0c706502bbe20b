package dev.jlens.load.hub;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The redirects of one request, followed by hand: at most {@value #MAX_REDIRECTS} of them, never the
 * same URL twice, never from https down to plain http, and only to http(s) URLs. Relative
 * {@code Location}s are resolved against the URL that sent them.
 */
final class RedirectChain {
    static final int MAX_REDIRECTS = 10;

    private final String label;
    private final URI start;
    private final Set<URI> seen = new HashSet<>();

    /** @param label what is being fetched, for messages ({@code gpt2/config.json}) */
    RedirectChain(URI start, String label) {
        this.start = start;
        this.label = label;
        seen.add(start.normalize());
    }

    /** The next URL to ask, after {@code from} answered with a redirect to {@code location}. */
    URI next(URI from, String location) {
        URI to = from.resolve(parse(from, location));
        String scheme = to.getScheme() == null ? "" : to.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || to.getHost() == null) {
            throw new HubException(label + ": " + from + " redirected to '" + location + "', which is not an http(s) URL;"
                    + " the server is misconfigured: check HF_ENDPOINT or try again later");
        }
        if (scheme.equals("http") && "https".equalsIgnoreCase(from.getScheme())) {
            throw new HubException(label + ": " + from + " redirected to plain http (" + to + "); refused, as the answer"
                    + " could be altered on the way: check HF_ENDPOINT or try again later");
        }
        if (!seen.add(to.normalize())) {
            throw new HubException(label + ": redirect loop: " + from + " sent it back to " + to + ", already visited since "
                    + start + "; the server is misconfigured: check HF_ENDPOINT or try again later");
        }
        if (seen.size() > MAX_REDIRECTS + 1) {
            throw new HubException(label + ": more than " + MAX_REDIRECTS + " redirects from " + start + " (the last to " + to
                    + "); the server is misconfigured: check HF_ENDPOINT or try again later");
        }
        return to;
    }

    /** A Location header as a URI reference (absolute or relative), or a clear refusal. */
    URI parse(URI from, String location) {
        try {
            return new URI(location.strip());
        } catch (URISyntaxException e) {
            throw new HubException(label + ": " + from + " redirected to a malformed Location '" + location + "' ("
                    + e.getReason() + "); check HF_ENDPOINT or try again later");
        }
    }

    /** Whether a response is a redirect this chain follows: 301, 302, 303, 307 or 308 with a Location. */
    static boolean isRedirect(int status, boolean hasLocation) {
        return hasLocation && (status == 301 || status == 302 || status == 303 || status == 307 || status == 308);
    }
}
