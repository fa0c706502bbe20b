package dev.jlens.load;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A model file that cannot be used as it is: truncated, malformed, inconsistent, or lacking a tensor
 * the caller asked for.
 *
 * <p>The message is meant for the person at the console, so it always names the file, the tensor
 * when there is one, what is wrong, and what to do about it, e.g.
 * {@code model.safetensors: tensor 'h.0.attn.c_attn.weight' declares shape [64, 192] ... ; re-download
 * or re-export it}.
 */
public final class CorruptModelFileException extends RuntimeException {
    private final Path file;
    private final String tensor;

    /**
     * @param file    the file at fault
     * @param tensor  the tensor at fault, or {@code null} when the problem is not about one tensor
     * @param problem what is wrong, worded to follow "file: tensor 'x' " (or just "file: ")
     * @param remedy  what the user can do about it
     */
    public CorruptModelFileException(Path file, String tensor, String problem, String remedy) {
        this(file, tensor, problem, remedy, null);
    }

    public CorruptModelFileException(Path file, String tensor, String problem, String remedy, Throwable cause) {
        super(compose(file, tensor, problem, remedy), cause);
        this.file = Objects.requireNonNull(file, "file");
        this.tensor = tensor;
    }

    /** A problem with the file as a whole. */
    public CorruptModelFileException(Path file, String problem, String remedy) {
        this(file, null, problem, remedy, null);
    }

    public Path file() {
        return file;
    }

    /** The tensor at fault, if the problem is about one. */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }

    /**
     * What a loader says when the JVM gives up while reading {@code file}: a stack overflow (values nested
     * or linked in cycles beyond what reading can follow), memory running out, or an internal error (a
     * mapped file shrinking under the reader). Each is about the file, so the user gets the same one line
     * as for any other bad file rather than a bare "StackOverflowError: null".
     */
    static CorruptModelFileException of(Path file, VirtualMachineError e) {
        String what = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + cut(e.getMessage(), 200));
        if (e instanceof OutOfMemoryError) {
            return new CorruptModelFileException(file, null, "needs more memory than this JVM has to read (" + what + ")",
                    "if the file is genuine, give jlens more memory (JLENS_HEAP); a small file that asks for this much is crafted,"
                            + " do not use it", e);
        }
        if (e instanceof StackOverflowError) {
            return new CorruptModelFileException(file, null, "holds values nested or linked too deeply to read (" + what + ")",
                    "the file is corrupt or crafted; do not use it", e);
        }
        return new CorruptModelFileException(file, null, "could not be read (" + what + ")",
                "if it changed or was truncated while being read, re-download or re-save it", e);
    }

    /** Names and problems come from files too: a message stays one readable line whatever a file holds. */
    private static final int MAX_TENSOR_NAME = 200, MAX_PROBLEM = 2000;

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "… (" + s.length() + " characters)";
    }

    private static String compose(Path file, String tensor, String problem, String remedy) {
        StringBuilder sb = new StringBuilder().append(file).append(": ");
        if (tensor != null) sb.append("tensor '").append(cut(tensor, MAX_TENSOR_NAME)).append("' ");
        sb.append(cut(problem, MAX_PROBLEM));
        if (remedy != null && !remedy.isBlank()) sb.append("; ").append(remedy);
        return sb.toString();
    }
}
