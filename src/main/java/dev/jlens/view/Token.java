package dev.jlens.view;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a record component that holds a token's text (or text made of tokens), kept raw in the record: where
 * jlens lays the record out (the console's tables of records), it is shown through {@link TokenText#visible},
 * the one way a token is shown. Every other string is a plain label and is shown as it is ({@link
 * Labels#printable}), so {@code "logit of ' Mary'"} or {@code "layer 3"} never gets dotted spaces: views do not
 * guess which strings are tokens, the type that holds them says so.
 *
 * <pre>{@code record TopToken(int rank, int id, @Token String token, double probability, double logit) {}}</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Token {}
