package dev.jlens.data;

import java.util.Arrays;

/**
 * A hash set of equal-length token windows, each stored as the offset of its first occurrence in one
 * token array, numbered in the order they were added. It is what makes the 858,923 distinct
 * 10-character substrings of TinyShakespeare a ~20 MB, sub-second job instead of a million strings.
 *
 * <p>Open addressing with linear probing; a slot holds {@code id + 1} (0 = empty). The hash is a
 * polynomial over the window's tokens, updated in O(1) as the window slides, then mixed; equal hashes
 * are confirmed by comparing tokens, so the set is exact.
 */
final class WindowTable {
    private static final long BASE = 0x9E3779B97F4A7C15L;

    private final int[] tokens;
    private final int length;
    private final long topPower;
    private final int[] slots;
    private final int mask;
    private int[] firstStarts;
    private int size;

    /**
     * @param capacity how many distinct windows may be added at most (sizes the table once)
     */
    WindowTable(int[] tokens, int length, int capacity) {
        this.tokens = tokens;
        this.length = length;
        long p = 1;
        for (int i = 1; i < length; i++) p *= BASE;
        this.topPower = p;
        int slotCount = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) << 1;
        this.slots = new int[slotCount];
        this.mask = slotCount - 1;
        this.firstStarts = new int[Math.max(16, Math.min(capacity, 1 << 16))];
    }

    /**
     * Adds the windows starting at {@code 0..count-1} in order; returns each position's window id
     * (ids are first-occurrence order).
     */
    int[] addAll(int count) {
        int[] ids = new int[count];
        if (count == 0) return ids;
        long h = hash(tokens, 0);
        for (int i = 0; i < count; i++) {
            if (i > 0) h = (h - tokens[i - 1] * topPower) * BASE + tokens[i + length - 1];
            ids[i] = addAt(i, h);
        }
        return ids;
    }

    private int addAt(int start, long h) {
        int slot = (int) mix(h) & mask;
        while (true) {
            int s = slots[slot];
            if (s == 0) {
                if (size == firstStarts.length) firstStarts = Arrays.copyOf(firstStarts, size * 2);
                firstStarts[size] = start;
                slots[slot] = ++size;
                return size - 1;
            }
            int other = firstStarts[s - 1];
            if (Arrays.equals(tokens, other, other + length, tokens, start, start + length)) return s - 1;
            slot = (slot + 1) & mask;
        }
    }

    /** The id of the window {@code query[offset..offset+length)}, or −1 when it was never added. */
    int idOf(int[] query, int offset) {
        if (offset < 0 || offset + length > query.length) {
            throw new IllegalArgumentException("a window of " + length + " tokens at offset " + offset
                    + " does not fit in " + query.length + " tokens");
        }
        int slot = (int) mix(hash(query, offset)) & mask;
        while (true) {
            int s = slots[slot];
            if (s == 0) return -1;
            int other = firstStarts[s - 1];
            if (Arrays.equals(tokens, other, other + length, query, offset, offset + length)) return s - 1;
            slot = (slot + 1) & mask;
        }
    }

    private long hash(int[] a, int offset) {
        long h = 0;
        for (int i = 0; i < length; i++) h = h * BASE + a[offset + i];
        return h;
    }

    /** Murmur3's 64-bit finaliser: spreads the polynomial's low bits over the whole word. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        return h ^ (h >>> 33);
    }

    int size() {
        return size;
    }

    /** Bytes of the table itself (the token array it points into not counted). */
    long sizeInBytes() {
        return 4L * (slots.length + firstStarts.length);
    }

    int length() {
        return length;
    }

    int[] tokens() {
        return tokens;
    }

    /** Where window {@code id} first occurs. */
    int firstStart(int id) {
        return firstStarts[id];
    }

    /** The first-occurrence offsets of every window, in id order (a copy). */
    int[] firstStarts() {
        return Arrays.copyOf(firstStarts, size);
    }
}
