package dev.jlens.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory of one run's temporaries, so that the forward pass says what it computes and not when
 * to free it. Each sublayer opens a {@link Scope}; the arrays it makes are registered there
 * ({@link Scope#alloc}, {@link Scope#track}) and, when the scope closes, every one that neither the
 * cache nor a hook has seen (nor any view of it) goes back to a pool of buffers by size, not to the
 * allocator. The next block asks for arrays of the same sizes and gets the same memory back: warm in
 * the cache, no allocation, no page faults (freeing at the end of a block without reuse made a
 * 45-token pass 30% slower, BENCHMARKS.md). Arrays that did escape stay with their owners: the
 * cache frees what it keeps when it is closed, a hook's arrays are the garbage collector's.
 *
 * <p>A scope's result leaves it with {@link Scope#keep} and is handed to the next scope with
 * {@link Scope#track}, as the residual stream passes from block to block. The pool is freed when the
 * run ends ({@link #close}).
 */
final class Arena implements AutoCloseable {
    private final HookContext ctx;
    private final Map<Long, ArrayDeque<DataBuffer>> free = new HashMap<>();

    Arena(HookContext ctx) {
        this.ctx = ctx;
    }

    Scope scope() {
        return new Scope();
    }

    /** Frees the pooled buffers: the run is over. */
    @Override
    public void close() {
        for (ArrayDeque<DataBuffer> buffers : free.values()) for (DataBuffer b : buffers) b.close();
        free.clear();
    }

    private static long key(DataType type, long length) {
        return length * 8 + type.ordinal();
    }

    /** The buffer an array's memory belongs to (views lead back to their owner's). */
    static DataBuffer owner(INDArray a) {
        DataBuffer d = a.data();
        while (d.originalDataBuffer() != null && d.originalDataBuffer() != d) d = d.originalDataBuffer();
        return d;
    }

    final class Scope implements AutoCloseable {
        private final Set<DataBuffer> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        private final List<INDArray> arrays = new ArrayList<>();

        /** A float32 array of this shape, uninitialised, from the pool when it holds one of this size. */
        INDArray alloc(long... shape) {
            return alloc(DataType.FLOAT, shape);
        }

        INDArray alloc(DataType type, long... shape) {
            long length = 1;
            for (long s : shape) length *= s;
            ArrayDeque<DataBuffer> same = free.get(key(type, length));
            DataBuffer buffer = same == null ? null : same.poll();
            INDArray a = buffer != null ? Nd4j.create(buffer, shape) : Nd4j.createUninitialized(type, shape);
            return track(a);
        }

        /** Registers an array an operation made (or adopts the previous scope's result); returns it. */
        INDArray track(INDArray a) {
            if (a != null && a.closeable() && owned.add(owner(a))) arrays.add(a);
            return a;
        }

        /** The scope's result: it outlives the scope (hand it on with {@link #track}). */
        INDArray keep(INDArray a) {
            if (a != null && owned.remove(owner(a))) arrays.removeIf(x -> owner(x) == owner(a));
            return a;
        }

        @Override
        public void close() {
            Set<DataBuffer> seen = ctx.escapedOwners();
            for (INDArray a : arrays) {
                DataBuffer buffer = owner(a);
                if (!seen.contains(buffer)) {
                    free.computeIfAbsent(key(buffer.dataType(), buffer.length()), k -> new ArrayDeque<>()).push(buffer);
                } else {
                    ctx.seenArray(a);
                }
            }
            arrays.clear();
            owned.clear();
        }
    }
}
