package dev.jlens.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.Shared;
import dev.jlens.tokenize.CharTokenizer;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corpora, splits, windows, unique substrings and next-token counts, against hand-computed small
 * cases, brute-force references (Java sets and maps of strings) and figures computed offline in
 * Python over TinyShakespeare ({@code len(set(t[i:i+10] for i in range(len(t)-9)))}).
 */
class DatasetsTest {
    private static final String SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static Corpus shakespeare() {
        return Corpus.read(Shared.file("data/tinyshakespeare/input.txt"), new CharTokenizer(SHAKESPEARE_CHARS));
    }

    private static Corpus text(String s) {
        return Corpus.of(s, "hand-made", CharTokenizer.fromText(s));
    }

    // ---------------------------------------------------------------- splits

    @Test
    void theSplitIsTheSeedsNinetyTen() {
        Corpus c = shakespeare();
        assertEquals(1_115_394, c.size());
        assertEquals(1_003_854, c.tokens(Split.TRAIN).length);   // int(0.9 * 1115394)
        assertEquals(111_540, c.tokens(Split.VAL).length);
        assertEquals(c.size(), c.tokens(Split.ALL).length);
        // val starts where train ends
        int[] all = c.tokens(Split.ALL), val = c.tokens(Split.VAL);
        assertEquals(all[1_003_854], val[0]);
        assertEquals("all", Split.parse("ALL").label());
        assertEquals(Split.VAL, Split.parse("validation"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Split.parse("test")).getMessage().contains("train, val or all"));
    }

    @Test
    void aSmallSplitByHand() {
        Corpus c = text("abcdefghij");                 // 10 tokens: int(0.9 * 10) = 9
        assertArrayEquals(c.tokens(Split.ALL), concat(c.tokens(Split.TRAIN), c.tokens(Split.VAL)));
        assertEquals(9, c.tokens(Split.TRAIN).length);
        assertEquals("j", c.text(c.tokens(Split.VAL)));
    }

    // ---------------------------------------------------------------- unique substrings

    @Test
    void uniqueSubstringsByHand() {
        Corpus c = text("abcabcab");
        UniqueSubstrings three = UniqueSubstrings.of(c, Split.ALL, 3);
        assertEquals(3, three.count());                 // abc, bca, cab (then repeats)
        assertEquals(List.of("abc", "bca", "cab"), texts(c, three));
        assertEquals(0, three.firstOccurrence(0));
        assertEquals(2, three.firstOccurrence(2));
        assertEquals(1, three.indexOf(c.tokenizer().encode("bca")));
        assertEquals(-1, three.indexOf(c.tokenizer().encode("aca")));
        assertEquals(3, UniqueSubstrings.of(c, Split.ALL, 1).count());
        assertEquals(1, UniqueSubstrings.of(text("aaaaa"), Split.ALL, 2).count());
        assertEquals(1, UniqueSubstrings.of(c, Split.ALL, 8).count());   // the whole text
        assertTrue(assertThrows(IllegalArgumentException.class, () -> UniqueSubstrings.of(c, Split.ALL, 9))
                .getMessage().contains("fewer than one substring"));
    }

    @Test
    void tinyShakespeareHas858923DistinctTenCharacterSubstrings() {
        Corpus c = shakespeare();
        assertEquals(858_923, UniqueSubstrings.of(c, Split.ALL, 10).count());   // seed 000's figure
        assertEquals(98_613, UniqueSubstrings.of(c, Split.VAL, 10).count());    // Python, offline
        assertEquals(780_165, UniqueSubstrings.of(c, Split.TRAIN, 10).count());
        assertEquals(65, UniqueSubstrings.of(c, Split.ALL, 1).count());
        assertEquals(1_403, UniqueSubstrings.of(c, Split.ALL, 2).count());
        assertEquals(11_556, UniqueSubstrings.of(c, Split.ALL, 3).count());
    }

    @Test
    void uniqueSubstringsAgreeWithAStringSetInFirstOccurrenceOrder() {
        Corpus c = shakespeare();
        String val = c.text(c.tokens(Split.VAL));
        for (int n : new int[] {4, 17}) {
            UniqueSubstrings u = UniqueSubstrings.of(c, Split.VAL, n);
            Set<String> seen = new HashSet<>();
            int id = 0;
            for (int i = 0; i + n <= val.length(); i++) {
                String s = val.substring(i, i + n);
                if (seen.add(s)) {
                    assertEquals(s, c.text(u.tokens(id)), "substring " + id);
                    assertEquals(i, u.firstOccurrence(id));
                    id++;
                }
            }
            assertEquals(seen.size(), u.count());
        }
    }

    // ---------------------------------------------------------------- windows

    @Test
    void slidingWindowsAreTorchUnfold() {
        Corpus c = text("0123456789");
        SlidingWindows w = SlidingWindows.of(c, Split.ALL, 3, 2);
        assertEquals(4, w.count());                      // (10 - 3) / 2 + 1
        assertEquals(List.of("012", "234", "456", "678"), texts(c, w));
        assertEquals(8, SlidingWindows.of(c, Split.ALL, 3, 1).count());
        assertEquals(1, SlidingWindows.of(c, Split.ALL, 10, 5).count());
        assertEquals(3, SlidingWindows.of(c, Split.ALL, 3, 3).count());   // 9 is the leftover tail
        long[][] rows = w.rows(1, 3);
        assertEquals(2, rows.length);
        assertArrayEquals(new long[] {2, 3, 4}, rows[0]);   // fromText: ids are the sorted characters
        assertThrows(IllegalArgumentException.class, () -> SlidingWindows.of(c, Split.ALL, 11, 1));
        assertThrows(IllegalArgumentException.class, () -> SlidingWindows.of(c, Split.ALL, 3, 0));
    }

    @Test
    void seed002sBatcherTestCase() {
        // seed 002: 2 full batches of 64 and one of 12, samples of 3 with stride 3
        int[] data = new int[2 * 64 * 3 + 12 * 3];
        SlidingWindows w = new SlidingWindows(data, 3, 3);
        assertEquals(140, w.count());
        assertEquals(3, w.batchCount(64));
    }

    // ---------------------------------------------------------------- next-token counts

    @Test
    void nextTokenCountsByHand() {
        Corpus c = text("aabab");   // a = 0, b = 1
        NextTokenCounts one = NextTokenCounts.of(c, Split.ALL, 1);
        assertEquals(2, one.prefixCount());
        assertArrayEquals(new int[] {1, 2}, one.counts(new int[] {0}));   // a → a once, b twice
        assertArrayEquals(new int[] {1, 0}, one.counts(new int[] {1}));   // b → a once; the last b has no next token
        assertEquals(3, one.total(0));
        NextTokenCounts two = NextTokenCounts.of(c, Split.ALL, 2);
        assertEquals(3, two.prefixCount());                                // aa, ab, ba
        assertArrayEquals(new int[] {0, 1}, two.counts(new int[] {0, 0}));
        assertArrayEquals(new int[] {1, 0}, two.counts(new int[] {0, 1}));
        assertArrayEquals(new int[] {0, 1}, two.counts(new int[] {1, 0}));
        assertArrayEquals(new int[] {0, 0}, two.counts(new int[] {1, 1}));  // never occurs: zeros, as defaultdict gives
        assertEquals(-1, two.indexOf(new int[] {1, 1}));
        assertArrayEquals(new int[] {1, 0}, two.prefix(2));
        assertArrayEquals(new int[] {0}, two.followers(1));
        // a text whose last window occurs only there: it is not a prefix
        NextTokenCounts last = NextTokenCounts.of(text("abc"), Split.ALL, 2);
        assertEquals(1, last.prefixCount());
    }

    @Test
    void nextTokenCountsAgreeWithAMapOfStringsOverTinyShakespeare() {
        Corpus c = shakespeare();
        String train = c.text(c.tokens(Split.VAL));
        NextTokenCounts counts = NextTokenCounts.of(c, Split.VAL, 10);
        Map<String, Map<Character, Integer>> reference = new HashMap<>();
        for (int i = 0; i + 10 < train.length(); i++) {
            reference.computeIfAbsent(train.substring(i, i + 10), k -> new HashMap<>()).merge(train.charAt(i + 10), 1, Integer::sum);
        }
        assertEquals(reference.size(), counts.prefixCount());
        CharTokenizer tok = (CharTokenizer) c.tokenizer();
        int checked = 0;
        for (Map.Entry<String, Map<Character, Integer>> e : reference.entrySet()) {
            if (checked++ % 7 != 0) continue;   // a spread of ~14,000 prefixes
            int[] expected = new int[65];
            e.getValue().forEach((ch, n) -> expected[tok.encode(String.valueOf(ch))[0]] = n);
            assertArrayEquals(expected, counts.counts(tok.encode(e.getKey())), e.getKey());
        }
        long total = 0;
        for (int p = 0; p < counts.prefixCount(); p++) total += counts.total(p);
        assertEquals(train.length() - 10, total);
        assertTrue(counts.sizeInBytes() < 64_000_000, counts.toString());
    }

    @Test
    void theFrequencySummaryOfHandMadeCounts() {
        Corpus c = text("the cat. the dog. the cat!");
        NextTokenCounts counts = NextTokenCounts.of(c, Split.ALL, 3);
        SubstringFrequencyAnalysis a = SubstringFrequencyAnalysis.of(List.of("the", "cat", "g. "),
                counts, c.tokenizer());
        // "the" is followed by ' ' three times; "cat" by '.' once and '!' once; "g. " by 't' once
        assertEquals(1, a.topTokens().get(0).size());
        assertEquals(" ", a.topTokens().get(0).get(0).token());
        assertEquals(3.0, a.topTokens().get(0).get(0).frequency());
        assertEquals(List.of("!", "."), a.topTokens().get(1).stream().map(SubstringFrequencyAnalysis.TokenFrequency::token).toList());
        assertEquals(3.0 / 6, a.topCumulative().get(0).frequency(), 1e-12);   // ' ' 3 of 6
        assertEquals(" ", a.topCumulative().get(0).token());
        double sum = 0;
        for (double f : a.cumulativeFrequencies()) sum += f;
        assertEquals(1.0, sum, 1e-12);
        String s = a.summary();
        assertTrue(s.startsWith("Substrings: 'the', 'cat', 'g.·'\n"), s);
        assertTrue(s.contains("'the':  '·' (   3)\n"), s);
        assertTrue(s.contains("'·' (0.50)"), s);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SubstringFrequencyAnalysis.of(List.of("th"), counts, c.tokenizer())).getMessage().contains("2 tokens"));
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void badCorporaSayWhatIsWrong(@TempDir Path tmp) throws Exception {
        CharTokenizer tok = new CharTokenizer("ab");
        String missing = assertThrows(IllegalArgumentException.class, () -> Corpus.read(tmp.resolve("nope.txt"), tok)).getMessage();
        assertTrue(missing.contains("no corpus at") && missing.contains("nope.txt"), missing);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Corpus.read(tmp, tok)).getMessage().contains("is a folder"));
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Corpus.read(empty, tok)).getMessage().contains("is empty"));
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), "ab\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Corpus.read(latin1, tok)).getMessage().contains("not UTF-8"));
        Path other = Files.writeString(tmp.resolve("other.txt"), "abc");
        String vocab = assertThrows(IllegalArgumentException.class, () -> Corpus.read(other, tok)).getMessage();
        assertTrue(vocab.contains("cannot be encoded with the model's tokenizer") && vocab.contains("other.txt"), vocab);
        Path unreadable = Files.writeString(tmp.resolve("secret.txt"), "ab");
        if (unreadable.toFile().setReadable(false) && !Files.isReadable(unreadable)) {   // root can read anything
            assertTrue(assertThrows(UncheckedIOException.class, () -> Corpus.read(unreadable, tok)).getMessage().contains("permission"));
        }
        Corpus ok = Corpus.read(Files.writeString(tmp.resolve("ok.txt"), "abba"), tok);
        // printf abba | sha256sum
        assertEquals("e22115b5d76640e2389bcac25c46a2df03b2df657c5b3ff32cbaed141f8e8ef0", ok.sha256());
    }

    private static List<String> texts(Corpus c, Samples s) {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < s.count(); i++) out.add(c.text(s.tokens(i)));
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
