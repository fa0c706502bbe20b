package dev.jlens.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import java.util.Map;

/**
 * The fields a loader reads from a model's config ({@code config.json}, nanoGPT's {@code model_args}),
 * each read with its type and range checked. A wrong value fails naming the file, the field and the
 * value, e.g. {@code …/config.json: 'n_head' is 0; it must be a positive integer}: never a silent
 * default (an unparsable epsilon becoming 1e-5) and never a bare "/ by zero" from deep inside a loader.
 * An absent or {@code null} optional field takes its default; a present one must be valid.
 */
public final class ConfigFields {
    private final JsonNode node;
    private final String where;

    /** @param where the config, for messages: {@code …/config.json}, {@code …/ckpt.pt model_args} */
    public ConfigFields(JsonNode node, String where) {
        this.node = node;
        this.where = where;
    }

    /** A pickled dict (nanoGPT's {@code model_args}) under the same rules; values other than scalars show as objects. */
    static ConfigFields ofMap(Map<?, ?> map, String where) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode node = f.objectNode();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            Object v = e.getValue();
            JsonNode n = v == null ? f.nullNode()
                    : v instanceof Boolean b ? f.booleanNode(b)
                    : v instanceof Long l ? f.numberNode(l)
                    : v instanceof Integer i ? f.numberNode(i)
                    : v instanceof Double d ? f.numberNode(d)
                    : v instanceof String s ? f.textNode(s)
                    : f.pojoNode(v);
            node.set(String.valueOf(e.getKey()), n);
        }
        return new ConfigFields(node, where);
    }

    /** The config, for messages. */
    public String where() {
        return where;
    }

    public boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    /** A required integer ≥ 1. */
    public int positiveInt(String field) {
        return positiveInt(field, required(field));
    }

    /** An optional integer ≥ 1, {@code fallback} when absent or null. */
    public int positiveInt(String field, int fallback) {
        return has(field) ? positiveInt(field, node.get(field)) : fallback;
    }

    /** An optional finite number > 0, {@code fallback} when absent or null. */
    public double positiveFinite(String field, double fallback) {
        if (!has(field)) return fallback;
        JsonNode v = node.get(field);
        double d = v.asDouble();
        if (!v.isNumber() || !Double.isFinite(d) || d <= 0) throw bad(field, v, "a finite positive number");
        return d;
    }

    /** An optional boolean, {@code fallback} when absent or null. */
    public boolean bool(String field, boolean fallback) {
        if (!has(field)) return fallback;
        JsonNode v = node.get(field);
        if (!v.isBoolean()) throw bad(field, v, "true or false");
        return v.booleanValue();
    }

    /** An optional string, {@code fallback} when absent or null. */
    public String text(String field, String fallback) {
        if (!has(field)) return fallback;
        JsonNode v = node.get(field);
        if (!v.isTextual()) throw bad(field, v, "a string");
        return v.textValue();
    }

    /** A required, non-empty string. */
    public String nonEmptyText(String field) {
        JsonNode v = required(field);
        if (!v.isTextual() || v.textValue().isEmpty()) throw bad(field, v, "a non-empty string");
        return v.textValue();
    }

    /** {@code dividend} must be a multiple of {@code divisor} (d_model of the heads). */
    void divisible(String dividendField, int dividend, String divisorField, int divisor) {
        if (dividend % divisor != 0) {
            throw new IllegalArgumentException(where + ": '" + dividendField + "' (" + dividend + ") is not divisible by '"
                    + divisorField + "' (" + divisor + "); the heads must split the width evenly; fix the config");
        }
    }

    /** A size the config declares must be the one the weights have (when it declares one at all). */
    void matches(String field, int fromWeights, String what) {
        if (!has(field)) return;
        JsonNode v = node.get(field);
        // A size the weights say is 0 (no MLP) may be declared as 0; every other must be a positive integer.
        int declared = fromWeights == 0 && v.isIntegralNumber() && v.canConvertToInt() && v.intValue() == 0 ? 0 : positiveInt(field, v);
        if (declared != fromWeights) {
            throw new IllegalArgumentException(where + ": '" + field + "' is " + declared + " but the weights have "
                    + fromWeights + " " + what + "; the config and the weights do not belong together");
        }
    }

    /** The field's value fails a check the caller made: {@code must} says what it has to be. */
    public IllegalArgumentException bad(String field, String must) {
        return bad(field, node.path(field), must);
    }

    private IllegalArgumentException bad(String field, JsonNode value, String must) {
        return new IllegalArgumentException(where + ": '" + field + "' is " + show(value) + "; it must be " + must);
    }

    private int positiveInt(String field, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() <= 0) throw bad(field, v, "a positive integer");
        return v.intValue();
    }

    private JsonNode required(String field) {
        if (!has(field)) throw new IllegalArgumentException(where + ": '" + field + "' is missing; the config must give it");
        return node.get(field);
    }

    /** The value as the file spells it, with its kind when that is not obvious: {@code "abc" (a string)}. */
    static String show(JsonNode v) {
        if (v == null || v.isMissingNode()) return "missing";
        if (v.isTextual()) return abbreviate(v.toString()) + " (a string)";
        if (v.isNumber() || v.isBoolean() || v.isNull()) return v.asText();
        if (v.isArray()) return "an array " + abbreviate(v.toString());
        // Unpickler.render bounds length and depth: a pickled value can be a cycle or a shared graph of 2^60 paths.
        if (v instanceof POJONode p) return Unpickler.render(p.getPojo(), 60);
        return "an object " + abbreviate(v.toString());
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
