package io.github.mobilellm4j;

/**
 * One generated token.
 *
 * @param id the token id
 * @param text the text this token completed; empty while a multi-byte character is still incomplete
 * @param index 0 for the first generated token
 */
public record GeneratedToken(int id, String text, int index) {
}
