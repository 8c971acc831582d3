// Building and reading the protocol's JSON with org.json: the library Android ships in its
// platform (API 1) and Debian packages as libandroid-json-java for the JVM, so the SDK adds no
// dependency on Android. Application data is any value org.json holds (JSONObject, JSONArray,
// String, Number, Boolean, JSONObject.NULL); Maps and Collections are wrapped on the way out.
package io.wshub.client;

import org.json.JSONException;
import org.json.JSONObject;

final class Json {
    private Json() {}

    /** A JSONObject of key/value pairs: {@code object("t", "ping", "id", 3)}. */
    static JSONObject object(Object... pairs) {
        JSONObject object = new JSONObject();
        for (int i = 0; i + 1 < pairs.length; i += 2) put(object, (String) pairs[i], pairs[i + 1]);
        return object;
    }

    /** Puts a value; null is left out (the protocol's optional fields are absent, not null). */
    static JSONObject put(JSONObject object, String key, Object value) {
        if (value == null) return object;
        try {
            object.put(key, value);
        } catch (JSONException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
        return object;
    }

    /** Application data as org.json holds it: null becomes JSONObject.NULL, a Map a JSONObject. */
    static Object data(Object value) {
        if (value == null) return JSONObject.NULL;
        Object wrapped = JSONObject.wrap(value);
        if (wrapped == null) throw new IllegalArgumentException("not JSON data: " + value.getClass().getName());
        return wrapped;
    }

    /** The value of {@code key}, JSONObject.NULL when absent (the protocol's "null when left out"). */
    static Object dataField(JSONObject object, String key) {
        Object value = object.opt(key);
        return value == null ? JSONObject.NULL : value;
    }

    /** A whole number field, or null when it is absent or not a number. */
    static Long optLong(JSONObject object, String key) {
        Object value = object.opt(key);
        return value instanceof Number ? Long.valueOf(((Number) value).longValue()) : null;
    }

    /** Parses one frame: a JSONObject, or null when the text is not one. */
    static Object parse(String text) {
        try {
            return new org.json.JSONTokener(text).nextValue();
        } catch (JSONException e) {
            return null;
        }
    }
}
