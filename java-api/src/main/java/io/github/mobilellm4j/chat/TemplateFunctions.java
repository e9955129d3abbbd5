package io.github.mobilellm4j.chat;

import java.time.Clock;
import java.time.ZonedDateTime;

/** The functions transformers gives chat templates, as static methods Jinjava can call. */
final class TemplateFunctions {
    /** The render's clock for strftime_now (set around each render). */
    static final ThreadLocal<Clock> CLOCK = new ThreadLocal<>();

    private TemplateFunctions() {}

    /** raise_exception(message): the template refuses the conversation. */
    static final class RaisedException extends RuntimeException {
        RaisedException(String message) {
            super(message);
        }
    }

    public static String raiseException(String message) {
        throw new RaisedException(message);
    }

    /** strftime_now(format): the current local time in Python's strftime format. */
    public static String strftimeNow(String format) {
        Clock c = CLOCK.get();
        return ChatTemplate.strftime(ZonedDateTime.now(c != null ? c : Clock.systemDefaultZone()), format);
    }
}
