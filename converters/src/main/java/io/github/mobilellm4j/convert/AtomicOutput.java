package io.github.mobilellm4j.convert;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;

/**
 * An output file written to a temporary file in the target's folder and atomically renamed onto
 * the target on {@link #commit()}. Closing without commit (failure, exception) deletes the
 * temporary file; a JVM shutdown (Ctrl-C) while open deletes it too. A process killed outright
 * (SIGKILL, power loss) leaves it behind: its name, {@code .NAME.pidPID.RANDOM.tmp}, records the
 * owner, and the next output to the same target deletes it once that process is gone.
 */
public final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final Thread hook;
    private boolean done;

    private AtomicOutput(Path target, Path temp, FileChannel channel, Thread hook) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.hook = hook;
    }

    /**
     * Checks the target (folder exists, not an input, not existing unless force) and opens a temp
     * file next to it.
     */
    public static AtomicOutput create(Path target, boolean force, Collection<Path> inputs) throws ConversionException {
        checkTarget(target, force, inputs);
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path temp = null;
        try {
            removeStaleTemps(dir, abs.getFileName().toString());
            temp = Files.createTempFile(dir, ownerPrefix(abs.getFileName().toString()) + ProcessHandle.current().pid() + ".", ".tmp");
            try {
                // createTempFile makes the file owner-only; give it the usual rw-r--r--
                Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        } catch (IOException e) {
            if (temp != null) deleteQuietly(temp);
            throw ConversionException.io(target, "cannot create a temporary file in " + dir, e);
        }
        final Path t = temp;
        Thread hook = new Thread(() -> {
            try {
                Files.deleteIfExists(t);
            } catch (IOException ignored) {
                // best effort at shutdown
            }
        }, "mobilellm4j-temp-cleanup");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            deleteQuietly(temp);
            throw new ConversionException(target, "the JVM is shutting down");
        }
        try {
            FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            return new AtomicOutput(abs, temp, ch, hook);
        } catch (IOException e) {
            removeHook(hook);
            deleteQuietly(temp);
            throw ConversionException.io(target, "cannot open temporary file", e);
        }
    }

    /** The validation of {@link #create} alone (so callers can fail before heavy work). */
    public static void checkTarget(Path target, boolean force, Collection<Path> inputs) throws ConversionException {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new ConversionException(target, "output folder " + dir + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new ConversionException(target, "output path is a folder");
        }
        for (Path in : inputs) {
            if (isSame(abs, in)) {
                throw new ConversionException(target, "refusing to overwrite the input file");
            }
        }
        if (Files.exists(abs) && !force) {
            throw new ConversionException(target, "output file already exists (use --force to overwrite)");
        }
    }

    /** Temporary files of target start with this, then the owner's PID, '.', random digits, ".tmp". */
    private static String ownerPrefix(String target) {
        return "." + target + ".pid";
    }

    /**
     * Deletes the temporary files of earlier outputs to target whose process no longer runs. A live
     * owner's file is left alone (a recycled PID can only make us keep a stale file, never delete a
     * live one); so are files not named by this class.
     */
    private static void removeStaleTemps(Path dir, String target) throws IOException {
        String prefix = ownerPrefix(target);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(prefix) && n.endsWith(".tmp");
        })) {
            for (Path p : ds) {
                String rest = p.getFileName().toString().substring(prefix.length());
                int dot = rest.indexOf('.');
                if (dot <= 0 || !rest.substring(dot + 1).matches("\\d+\\.tmp")) continue;
                long pid;
                try {
                    pid = Long.parseLong(rest.substring(0, dot));
                } catch (NumberFormatException notOurs) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                deleteQuietly(p);
            }
        }
    }

    private static boolean isSame(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        } catch (IOException ignored) {
            // fall through to a path comparison
        }
        return a.equals(b.toAbsolutePath().normalize());
    }

    public FileChannel channel() {
        return channel;
    }

    public Path target() {
        return target;
    }

    public Path temp() {
        return temp;
    }

    /** Flushes, closes and renames the temp file onto the target. */
    public void commit() throws ConversionException {
        try {
            channel.force(false);
            channel.close();
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (IOException e) {
            throw ConversionException.io(target, "cannot finish writing", e);
        } finally {
            if (!done) deleteQuietly(temp);
            removeHook(hook);
        }
    }

    @Override
    public void close() {
        if (!done) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // deleting anyway
            }
            deleteQuietly(temp);
            removeHook(hook);
            done = true;
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // shutting down: the hook runs
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // nothing more to do
        }
    }
}
