// The config's schema: each TOML table is one ConfigTable of key descriptors (name, type,
// bounds, one-line doc) bound to a plain struct's fields; the reader, `check-config --keys` and
// the docs test read them. Knows neither the TOML parser nor any section (config_sections.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace wshub::app {

enum class KeyType : uint8_t {
  count,        // whole number within bounds
  size,         // bytes: a whole number or a string with a unit ("16MiB")
  duration_ms,  // whole number of milliseconds within bounds
  flag,         // true or false
  text,         // string
  text_list,    // list of strings
  path,         // file path; relative to the config file's directory; checked by check_config_files
  choice,       // one of a fixed list of names (an enum)
  table,        // a sub-table with its own ConfigTable
  table_list,   // an array of tables ([[name]]) with its own ConfigTable
};

// "count", "size", "duration (ms)", ...: the type column of the key reference.
const char* key_type_name(KeyType type);

// A key's value as the reader found it; only the member for the key's type is set.
struct KeyValue {
  uint64_t number = 0;            // count, size, duration_ms; choice: the index of the name
  bool flag = false;
  std::string text;               // text; path (already resolved)
  std::vector<std::string> list;  // text_list
};

// Checks one string before it is stored (a text value, or each item of a text_list) and may
// normalise it in place. False with `why` set refuses it; the error points at that string.
using TextCheck = std::function<bool(std::string& value, std::string& why)>;

// Handed to a table's check after all its keys were read and stored.
class TableCheck {
 public:
  virtual ~TableCheck() = default;
  virtual bool given(std::string_view key) const = 0;
  // Reports `message` for `key`, at its value when given, else at the table. Returns false.
  virtual bool fail(std::string_view key, std::string message) = 0;
};

// Handed to a table_list's check after every entry was read and stored.
class ListCheck {
 public:
  virtual ~ListCheck() = default;
  // The line where entry `entry` (0-based) gives `key`, or its table's line if it does not.
  virtual uint32_t line_of(size_t entry, std::string_view key) const = 0;
  // Reports `message` for `key` of entry `entry`. Returns false.
  virtual bool fail(size_t entry, std::string_view key, std::string message) = 0;
  // Reports `message` for the list as a whole (at the list). Returns false.
  virtual bool fail_list(std::string message) = 0;
};

// Per key, all optional; written with designated initializers: {.required = true, ...}.
struct KeyOptions {
  bool required = false;              // missing: "missing; expected ..." at the enclosing table
  std::string_view expected = {};       // replaces the type's "expected ..." phrase ("a string")
  std::string_view shown_default = {};  // replaces the default the reference computes
  std::string_view bounds_reason = {};  // follows "must be between MIN and MAX: "
  TextCheck check = {};                 // text, and every item of a text_list
};

struct ConfigTable;

// One key, type-erased: the functions take the struct the table is bound to as void*.
struct KeyDescriptor {
  std::string_view name;
  KeyType type = KeyType::text;
  std::string_view doc;  // one line
  KeyOptions options;
  uint64_t min = 0;  // count, size, duration_ms
  uint64_t max = 0;
  std::vector<std::string_view> choices;  // choice
  std::function<void(void*, KeyValue&&)> store;                      // scalar types
  std::function<std::string(const void*)> show;                      // TOML text of the value
  const ConfigTable* nested = nullptr;                               // table, table_list
  std::function<void*(void*)> open;                                  // table: the struct to fill
  std::function<void(void*)> clear;                                  // table_list
  std::function<void*(void*)> append;                                // table_list: a new entry
  std::function<bool(const void*, ListCheck&)> check_list;           // table_list, with the parent
};

struct ConfigTable {
  std::vector<KeyDescriptor> keys;  // in reading order; "known keys here" lists them so
  std::function<bool(const void*, TableCheck&)> check;  // across keys, after they are stored
  const KeyDescriptor* find(std::string_view name) const;
};

// One row of a key reference (check-config --keys, the docs test), made from the tables.
struct KeyReference {
  std::string key;    // "listen.tls.cert"
  std::string table;  // the table it is in: "listen.tls"; empty for a top-level key
  const KeyDescriptor* descriptor = nullptr;
  std::string type;           // "count, 0–1024", "one of \"text\", \"json\"", ...
  std::string default_value;  // TOML text of the default, the key's shown_default, or "required"
};

// Every key of `root` and of the tables under it, depth first. `defaults` is a default
// instance of the struct `root` is bound to; its lists are emptied to show a fresh entry's
// defaults.
std::vector<KeyReference> table_reference(const ConfigTable& root, void* defaults);
// A heading per table (with the doc of the key that names it) and a row per key.
std::string reference_markdown(const std::vector<KeyReference>& reference);

// The field `inner` of the member `outer`, as a binding: via(&AppConfig::server,
// &server::ServerConfig::threads) for a key of a table bound to AppConfig.
template <typename S, typename M, typename T>
auto via(M S::*outer, T M::*inner) {
  return [outer, inner](S& s) -> T& { return (s.*outer).*inner; };
}

// TOML text for the reference: 16777216 -> "16MiB", a string -> "quoted".
std::string show_size(uint64_t bytes);
std::string show_text(std::string_view text);
std::string show_text_list(const std::vector<std::string>& list);

namespace schema_detail {
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace schema_detail

// Declares the keys of one table bound to struct S, in order, and builds the ConfigTable.
// Each key binds either a field (a pointer to member `&S::field`, or a lambda
// `[](S& s) -> T& { return s.a.b; }`, or `via(...)`) that the reader assigns and the reference
// shows, or a setter lambda `[](S& s, T value) { ... }` for a value that must be converted
// (T is uint64_t for numbers, std::string, std::vector<std::string>, bool or the enum).
template <typename S>
class ConfigFields {
  // The field's type for a field binding; `Setter` for a setter lambda.
  template <typename B, typename Setter>
  using field_t = std::remove_cvref_t<typename std::conditional_t<
      std::is_invocable_v<B&, S&>, std::invoke_result<B&, S&>, std::type_identity<Setter>>::type>;

 public:
  template <typename B>
  ConfigFields& count(std::string_view name, B bind, uint64_t min, uint64_t max,
                      std::string_view doc, KeyOptions options = {}) {
    return number(KeyType::count, name, bind, min, max, doc, std::move(options));
  }
  template <typename B>
  ConfigFields& size(std::string_view name, B bind, uint64_t min, uint64_t max,
                     std::string_view doc, KeyOptions options = {}) {
    return number(KeyType::size, name, bind, min, max, doc, std::move(options));
  }
  template <typename B>
  ConfigFields& duration_ms(std::string_view name, B bind, uint64_t min, uint64_t max,
                            std::string_view doc, KeyOptions options = {}) {
    return number(KeyType::duration_ms, name, bind, min, max, doc, std::move(options));
  }

  template <typename B>
  ConfigFields& flag(std::string_view name, B bind, std::string_view doc, KeyOptions options = {}) {
    using F = field_t<B, bool>;
    return add<F>(describe(name, KeyType::flag, doc, std::move(options)), bind,
                  [](KeyValue&& v) { return F(v.flag); },
                  [](const F& f) { return std::string(f ? "true" : "false"); });
  }

  template <typename B>
  ConfigFields& text(std::string_view name, B bind, std::string_view doc, KeyOptions options = {}) {
    return string_key(KeyType::text, name, bind, doc, std::move(options));
  }
  template <typename B>
  ConfigFields& path(std::string_view name, B bind, std::string_view doc, KeyOptions options = {}) {
    return string_key(KeyType::path, name, bind, doc, std::move(options));
  }

  template <typename B>
  ConfigFields& text_list(std::string_view name, B bind, std::string_view doc,
                          KeyOptions options = {}) {
    using F = field_t<B, std::vector<std::string>>;
    return add<F>(describe(name, KeyType::text_list, doc, std::move(options)), bind,
                  [](KeyValue&& v) { return F(std::move(v.list)); },
                  [](const F& f) { return show_text_list(f); });
  }

  // One of `names`, each stored as its value: {{"epoll", IoBackend::epoll}, ...}. E is the
  // field's type; a setter lambda names it: choice<decltype(setter), Mode>(...).
  template <typename B, typename E = field_t<B, void>>
  ConfigFields& choice(std::string_view name, B bind,
                       std::initializer_list<std::pair<std::string_view, E>> names,
                       std::string_view doc, KeyOptions options = {}) {
    KeyDescriptor key = describe(name, KeyType::choice, doc, std::move(options));
    std::vector<E> values;
    for (const auto& [text, value] : names) {
      key.choices.push_back(text);
      values.push_back(value);
    }
    const std::vector<std::string_view> texts = key.choices;
    using F = field_t<B, E>;
    return add<F>(std::move(key), bind, [values](KeyValue&& v) { return F(values[v.number]); },
                  [values, texts](const F& f) {
                    for (size_t i = 0; i < values.size(); ++i)
                      if (values[i] == f) return show_text(texts[i]);
                    return std::string("?");
                  });
  }
  // One of `names`, stored as the name itself in a std::string field.
  template <typename B>
  ConfigFields& text_choice(std::string_view name, B bind, std::initializer_list<std::string_view> names,
                            std::string_view doc, KeyOptions options = {}) {
    KeyDescriptor key = describe(name, KeyType::choice, doc, std::move(options));
    key.choices.assign(names.begin(), names.end());
    const std::vector<std::string_view> texts = key.choices;
    using F = field_t<B, std::string>;
    return add<F>(std::move(key), bind, [texts](KeyValue&& v) { return F(texts[v.number]); },
                  [](const F& f) { return show_text(f); });
  }

  // A sub-table read into the field `bind` (a struct, or a std::optional of one, which the
  // table's presence sets), with its own keys.
  template <typename B>
  ConfigFields& table(std::string_view name, B bind, const ConfigTable& nested, std::string_view doc,
                      KeyOptions options = {}) {
    KeyDescriptor key = describe(name, KeyType::table, doc, std::move(options));
    key.nested = &nested;
    key.open = [bind](void* target) -> void* {
      auto& field = std::invoke(bind, *static_cast<S*>(target));
      if constexpr (schema_detail::is_optional<std::remove_cvref_t<decltype(field)>>::value) {
        field.emplace();
        return &*field;
      } else {
        return &field;
      }
    };
    keys_.push_back(std::move(key));
    return *this;
  }

  // An array of tables read into the std::vector field `bind`, which it replaces. `check`
  // sees the whole struct S after every entry was stored (uniqueness across entries, ...).
  template <typename B>
  ConfigFields& table_list(std::string_view name, B bind, const ConfigTable& entry,
                           std::string_view doc, KeyOptions options = {},
                           std::function<bool(const S&, ListCheck&)> check = {}) {
    KeyDescriptor key = describe(name, KeyType::table_list, doc, std::move(options));
    key.nested = &entry;
    key.clear = [bind](void* target) { std::invoke(bind, *static_cast<S*>(target)).clear(); };
    key.append = [bind](void* target) -> void* {
      return &std::invoke(bind, *static_cast<S*>(target)).emplace_back();
    };
    if (check)
      key.check_list = [check](const void* target, ListCheck& list) {
        return check(*static_cast<const S*>(target), list);
      };
    keys_.push_back(std::move(key));
    return *this;
  }

  // Runs after every key of the table was stored: rules across keys.
  ConfigFields& check(std::function<bool(const S&, TableCheck&)> rule) {
    table_check_ = [rule](const void* target, TableCheck& check) {
      return rule(*static_cast<const S*>(target), check);
    };
    return *this;
  }

  ConfigTable build() { return ConfigTable{std::move(keys_), std::move(table_check_)}; }

 private:
  static KeyDescriptor describe(std::string_view name, KeyType type, std::string_view doc,
                                KeyOptions options) {
    KeyDescriptor key;
    key.name = name;
    key.type = type;
    key.doc = doc;
    key.options = std::move(options);
    return key;
  }

  template <typename B>
  ConfigFields& number(KeyType type, std::string_view name, B bind, uint64_t min, uint64_t max,
                       std::string_view doc, KeyOptions options) {
    using F = field_t<B, uint64_t>;
    static_assert(std::is_integral_v<F> && std::is_unsigned_v<F>, "a number binds an unsigned field");
    if (min > max || max > std::numeric_limits<F>::max())
      throw std::logic_error("config key " + std::string(name) + ": bounds do not fit its field");
    KeyDescriptor key = describe(name, type, doc, std::move(options));
    key.min = min;
    key.max = max;
    return add<F>(std::move(key), bind, [](KeyValue&& v) { return F(v.number); },
                  [type](const F& f) {
                    return type == KeyType::size ? show_size(f) : std::to_string(uint64_t(f));
                  });
  }

  template <typename B>
  ConfigFields& string_key(KeyType type, std::string_view name, B bind, std::string_view doc,
                           KeyOptions options) {
    using F = field_t<B, std::string>;
    return add<F>(describe(name, type, doc, std::move(options)), bind,
                  [](KeyValue&& v) { return F(std::move(v.text)); },
                  [](const F& f) { return show_text(f); });
  }

  // F is the field's type (cv-ref removed); from_value makes one from the reader's value and
  // to_text shows one in the reference.
  template <typename F, typename B, typename FromValue, typename ToText>
  ConfigFields& add(KeyDescriptor key, B bind, FromValue from_value, ToText to_text) {
    using Field = std::remove_cvref_t<F>;
    if constexpr (std::is_invocable_v<B&, S&>) {
      key.store = [bind, from_value](void* target, KeyValue&& value) {
        std::invoke(bind, *static_cast<S*>(target)) = from_value(std::move(value));
      };
      key.show = [bind, to_text](const void* target) {
        // The binding may take S& only; showing does not change the struct.
        const Field& field = std::invoke(bind, *const_cast<S*>(static_cast<const S*>(target)));
        return to_text(field);
      };
    } else {
      static_assert(std::is_invocable_v<B&, S&, Field>,
                    "bind &S::field, [](S&) -> T& {...}, via(...), or a setter [](S&, T) {...}");
      key.store = [bind, from_value](void* target, KeyValue&& value) {
        std::invoke(bind, *static_cast<S*>(target), from_value(std::move(value)));
      };
    }
    keys_.push_back(std::move(key));
    return *this;
  }

  std::vector<KeyDescriptor> keys_;
  std::function<bool(const void*, TableCheck&)> table_check_;
};

}  // namespace wshub::app
