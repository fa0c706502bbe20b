package dev.jlens.cli;

/**
 * A command line a jlens command cannot run (an unknown option, a missing or malformed value, options
 * that contradict each other, a model path that is no model): the message is one line that names the
 * option and says what to do. {@link Cli#run} prints it and exits with status 2.
 *
 * <p>An {@link IllegalArgumentException}: what is wrong is an argument, the command line's.
 */
public final class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
