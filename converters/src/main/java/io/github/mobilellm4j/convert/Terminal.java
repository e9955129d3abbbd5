package io.github.mobilellm4j.convert;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Whether standard error, where progress goes, is a terminal. {@code System.console()} answers for standard
 * input and output, so {@code convert 2>log} typed at a terminal would count as interactive and write redraws into
 * the log; this asks about standard error itself: {@code isatty(2)} on Linux and macOS, {@code GetConsoleMode} on
 * the standard error handle on Windows, both through FFM. Without native access (no
 * {@code --enable-native-access}) the answer is no: plain lines are right everywhere. {@code MOBILELLM_PROGRESS=bar}
 * or {@code =lines} overrides the answer; {@code TERM=dumb} means lines.
 */
public final class Terminal {
    private static final int STD_ERROR_HANDLE = -12;

    private Terminal() {
    }

    public static boolean stderrIsTerminal() {
        String forced = System.getenv("MOBILELLM_PROGRESS");
        if ("bar".equals(forced)) return true;
        if ("lines".equals(forced)) return false;
        if ("dumb".equals(System.getenv("TERM"))) return false;
        if (!Terminal.class.getModule().isNativeAccessEnabled()) return false;
        try {
            boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
            return windows ? windowsConsole() : isatty(2);
        } catch (Throwable e) { // no such symbol, or the call failed: not a terminal we know how to redraw
            return false;
        }
    }

    private static boolean isatty(int fd) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        return (int) isatty.invokeExact(fd) == 1;
    }

    /** GetConsoleMode succeeds only on a console handle (not on a file, a pipe or the NUL device). */
    private static boolean windowsConsole() throws Throwable {
        Linker linker = Linker.nativeLinker();
        SymbolLookup kernel32 = SymbolLookup.libraryLookup("kernel32", Arena.global());
        MethodHandle getStdHandle = linker.downcallHandle(kernel32.find("GetStdHandle").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle getConsoleMode = linker.downcallHandle(kernel32.find("GetConsoleMode").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) getStdHandle.invokeExact(STD_ERROR_HANDLE);
            MemorySegment mode = arena.allocate(JAVA_INT);
            return (int) getConsoleMode.invokeExact(handle, mode) != 0;
        }
    }
}
