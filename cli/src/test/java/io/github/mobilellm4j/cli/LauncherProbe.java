package io.github.mobilellm4j.cli;

/** Stands in for the tool in LauncherTest's jar: shows that the launcher ran the jar with the arguments given. */
public final class LauncherProbe {
    private LauncherProbe() {
    }

    public static void main(String[] args) {
        System.out.println("probe ran: " + String.join(" ", args));
    }
}
