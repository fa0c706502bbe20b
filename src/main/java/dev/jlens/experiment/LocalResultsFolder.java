package dev.jlens.experiment;

import dev.jlens.cli.FolderLock;
import dev.jlens.load.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/** A results folder on this machine's file system: java.nio, an operating-system lock ({@link FolderLock}). */
record LocalResultsFolder(Path folder, FreeSpace freeSpace) implements ResultsFolder {
    @Override
    public String location() {
        return folder.toAbsolutePath().toString();
    }

    @Override
    public URI uri() {
        return folder.toAbsolutePath().toUri();
    }

    @Override
    public Optional<Path> localPath() {
        return Optional.of(folder);
    }

    @Override
    public boolean exists() {
        return Files.exists(folder);
    }

    @Override
    public boolean isDirectory() {
        return Files.isDirectory(folder);
    }

    @Override
    public void create() throws IOException {
        Files.createDirectories(folder);
    }

    @Override
    public List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            List<String> names = new ArrayList<>();
            s.forEach(p -> names.add(p.getFileName().toString()));
            names.sort(String::compareTo);
            return names;
        }
    }

    @Override
    public OptionalLong size(String name) throws IOException {
        Path file = folder.resolve(name);
        return Files.exists(file) ? OptionalLong.of(Files.size(file)) : OptionalLong.empty();
    }

    @Override
    public InputStream open(String name) throws IOException {
        return Files.newInputStream(folder.resolve(name));
    }

    @Override
    public void replace(String name, byte[] bytes) throws IOException {
        AtomicFiles.write(folder.resolve(name), bytes);
    }

    @Override
    public void delete(String name) throws IOException {
        Files.deleteIfExists(folder.resolve(name));
    }

    @Override
    public long usableBytes() throws IOException {
        return freeSpace.usableBytes(folder);
    }

    @Override
    public Lock lock(String what) {
        FolderLock lock = FolderLock.acquire(folder, what);
        return new Lock() {
            @Override
            public String previousOwner() {
                return lock.previousOwner();
            }

            @Override
            public void close() {
                lock.close();
            }
        };
    }

    @Override
    public String toString() {
        return location();
    }
}
