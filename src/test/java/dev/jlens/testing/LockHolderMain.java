package dev.jlens.testing;

import dev.jlens.cli.FolderLock;
import java.nio.file.Path;

/** A child program that locks a folder as a run would, says "locked", and holds it until killed or its stdin closes. */
public final class LockHolderMain {
    private LockHolderMain() {}

    public static void main(String[] args) throws Exception {
        try (FolderLock lock = FolderLock.acquire(Path.of(args[0]), "a test run")) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // hold until stdin closes
            }
        }
    }
}
