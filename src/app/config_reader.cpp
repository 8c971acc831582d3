// Reads TOML into structs through their ConfigTables (config_schema.h): types, bounds, required
// and unknown keys, each error as FILE:LINE:COLUMN: KEY: message. Knows no particular section.
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <toml++/toml.h>

#include "app/config_file.h"
#include "app/config_schema.h"
#include "app/config_sections.h"

namespace wshub::app {

namespace {

std::string join_name(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : fmt::format("{}.{}", prefix, name);
}

// What a value of this key must look like, after "expected ".
std::string expected_phrase(const KeyDescriptor& key, std::string_view full) {
  if (!key.options.expected.empty()) return std::string(key.options.expected);
  switch (key.type) {
    case KeyType::count: return "a whole number";
    case KeyType::size: return "a whole number of bytes or a size such as \"16MiB\"";
    case KeyType::duration_ms: return "a whole number of milliseconds";
    case KeyType::flag: return "true or false";
    case KeyType::text: return "a string";
    case KeyType::text_list: return "a list of strings";
    case KeyType::path: return "a file path";
    case KeyType::choice: {
      std::string names;
      for (size_t i = 0; i < key.choices.size(); ++i)
        names += fmt::format("{}\"{}\"", i == 0 ? "" : i + 1 == key.choices.size() ? " or " : ", ",
                             key.choices[i]);
      return names;
    }
    case KeyType::table: return fmt::format("a [{}] table", full);
    case KeyType::table_list: return fmt::format("[[{}]] tables", full);
  }
  return "a value";
}

class TableReader {
 public:
  TableReader(std::string_view source, std::string base_directory,
              std::vector<ConfigFileReference>& files, ConfigError& error)
      : source_(source), base_directory_(std::move(base_directory)), files_(files), error_(error) {}

  bool read_table(const toml::table& table, const ConfigTable& schema, void* target,
                  const std::string& prefix) {
    if (!check_known_keys(table, schema, prefix)) return false;
    for (const KeyDescriptor& key : schema.keys) {
      const std::string full = join_name(prefix, key.name);
      const toml::node* node = table.get(key.name);
      if (!node) {
        if (key.options.required)
          return fail(table.source().begin, full,
                      fmt::format("missing; expected {}", expected_phrase(key, full)));
        continue;
      }
      if (!read_key(*node, key, target, full)) return false;
    }
    if (!schema.check) return true;
    Check check(*this, table, prefix);
    return schema.check(target, check);
  }

  bool fail(const toml::source_position& where, std::string_view key, std::string message) {
    error_.message = fmt::format("{}:{}:{}: {}: {}", source_, where.line, where.column, key, message);
    return false;
  }

 private:
  class Check final : public TableCheck {
   public:
    Check(TableReader& reader, const toml::table& table, std::string_view prefix)
        : reader_(reader), table_(table), prefix_(prefix) {}
    bool given(std::string_view key) const override { return table_.get(key) != nullptr; }
    bool fail(std::string_view key, std::string message) override {
      const toml::node* node = table_.get(key);
      return reader_.fail(node ? node->source().begin : table_.source().begin,
                          join_name(prefix_, key), std::move(message));
    }

   private:
    TableReader& reader_;
    const toml::table& table_;
    std::string_view prefix_;
  };

  class EntriesCheck final : public ListCheck {
   public:
    EntriesCheck(TableReader& reader, const toml::array& array,
                 const std::vector<const toml::table*>& entries, std::string_view full)
        : reader_(reader), array_(array), entries_(entries), full_(full) {}
    uint32_t line_of(size_t entry, std::string_view key) const override {
      const toml::node* node = entries_.at(entry)->get(key);
      return (node ? node->source() : entries_.at(entry)->source()).begin.line;
    }
    bool fail(size_t entry, std::string_view key, std::string message) override {
      const toml::node* node = entries_.at(entry)->get(key);
      return reader_.fail((node ? node->source() : entries_.at(entry)->source()).begin,
                          join_name(full_, key), std::move(message));
    }
    bool fail_list(std::string message) override {
      return reader_.fail(array_.source().begin, full_, std::move(message));
    }

   private:
    TableReader& reader_;
    const toml::array& array_;
    const std::vector<const toml::table*>& entries_;
    std::string_view full_;
  };

  // A typo must not silently fall back to a default: a key the table does not have is an error
  // that lists the keys it does have.
  bool check_known_keys(const toml::table& table, const ConfigTable& schema,
                        const std::string& prefix) {
    for (auto&& [key, node] : table) {
      if (schema.find(key.str())) continue;
      std::string known;
      for (const KeyDescriptor& k : schema.keys) known += fmt::format("{}{}", known.empty() ? "" : ", ", k.name);
      return fail(key.source().begin, join_name(prefix, key.str()),
                  fmt::format("unknown key; known keys here: {}", known));
    }
    return true;
  }

  bool read_key(const toml::node& node, const KeyDescriptor& key, void* target,
                const std::string& full) {
    const auto wrong = [&](const toml::node& at) {
      return fail(at.source().begin, full, fmt::format("expected {}", expected_phrase(key, full)));
    };
    KeyValue value;
    switch (key.type) {
      case KeyType::count:
      case KeyType::size:
      case KeyType::duration_ms:
        if (!read_number(node, key, full, value.number)) return false;
        break;
      case KeyType::flag:
        if (!node.is_boolean()) return wrong(node);
        value.flag = *node.value<bool>();
        break;
      case KeyType::text:
        if (!node.is_string()) return wrong(node);
        value.text = *node.value<std::string>();
        if (!check_text(node, key, full, value.text)) return false;
        break;
      case KeyType::path:
        if (!node.is_string() || node.value<std::string>()->empty()) return wrong(node);
        value.text = resolve(*node.value<std::string>());
        files_.push_back({full, value.text, entry_, node.source().begin.line,
                          node.source().begin.column});
        break;
      case KeyType::text_list: {
        const toml::array* array = node.as_array();
        if (!array) return wrong(node);
        for (const toml::node& item : *array) {
          if (!item.is_string()) return wrong(item);
          value.list.push_back(*item.value<std::string>());
          if (!check_text(item, key, full, value.list.back())) return false;
        }
        break;
      }
      case KeyType::choice: {
        const std::optional<std::string_view> text = node.value<std::string_view>();
        size_t index = 0;
        while (text && index < key.choices.size() && key.choices[index] != *text) ++index;
        if (!text || index == key.choices.size()) return wrong(node);
        value.number = index;
        break;
      }
      case KeyType::table: {
        const toml::table* table = node.as_table();
        if (!table) return wrong(node);
        return read_table(*table, *key.nested, key.open(target), full);
      }
      case KeyType::table_list:
        return read_entries(node, key, target, full);
    }
    key.store(target, std::move(value));
    return true;
  }

  bool read_number(const toml::node& node, const KeyDescriptor& key, const std::string& full,
                   uint64_t& out) {
    int64_t value = 0;
    if (node.is_integer()) {
      value = *node.value<int64_t>();
    } else if (key.type == KeyType::size && node.is_string()) {
      uint64_t bytes = 0;
      if (!parse_byte_size(*node.value<std::string>(), bytes))
        return fail(node.source().begin, full, fmt::format("expected {}", expected_phrase(key, full)));
      value = int64_t(std::min<uint64_t>(bytes, INT64_MAX));
    } else {
      return fail(node.source().begin, full, fmt::format("expected {}", expected_phrase(key, full)));
    }
    if (value < 0 || uint64_t(value) < key.min || uint64_t(value) > key.max) {
      std::string message = fmt::format("must be between {} and {}", key.min, key.max);
      if (!key.options.bounds_reason.empty()) message += fmt::format(": {}", key.options.bounds_reason);
      return fail(node.source().begin, full, std::move(message));
    }
    out = uint64_t(value);
    return true;
  }

  bool check_text(const toml::node& node, const KeyDescriptor& key, const std::string& full,
                  std::string& text) {
    std::string why;
    if (!key.options.check || key.options.check(text, why)) return true;
    return fail(node.source().begin, full, why);
  }

  bool read_entries(const toml::node& node, const KeyDescriptor& key, void* target,
                    const std::string& full) {
    const toml::array* array = node.as_array();
    if (!array)
      return fail(node.source().begin, full, fmt::format("expected {}", expected_phrase(key, full)));
    key.clear(target);
    const bool top_level = full.find('.') == std::string::npos;
    std::vector<const toml::table*> entries;
    for (const toml::node& item : *array) {
      const toml::table* table = item.as_table();
      if (!table)
        return fail(item.source().begin, full, fmt::format("expected {}", expected_phrase(key, full)));
      if (top_level) entry_ = entries.size();
      entries.push_back(table);
      if (!read_table(*table, *key.nested, key.append(target), full)) return false;
    }
    if (!key.check_list) return true;
    EntriesCheck check(*this, *array, entries, full);
    return key.check_list(target, check);
  }

  // Relative paths are taken from the config file's directory, not the current one.
  std::string resolve(const std::string& path) const {
    if (path[0] == '/' || base_directory_.empty()) return path;
    return base_directory_ + "/" + path;
  }

  std::string_view source_;
  std::string base_directory_;
  std::vector<ConfigFileReference>& files_;
  ConfigError& error_;
  size_t entry_ = 0;  // the top-level [[...]] entry being read, for ConfigFileReference::entry
};

}  // namespace

std::string toml_quoted(std::string_view text) {
  // A basic string ("...", escapes where needed): literal strings ('...') are valid TOML too,
  // but read as odd to anyone who has not met them.
  std::ostringstream out;
  const toml::value<std::string> value{std::string(text)};
  out << toml::toml_formatter(value, toml::format_flags::allow_unicode_strings);
  return out.str();
}

bool parse_byte_size(std::string_view text, uint64_t& out) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return false;
  std::string_view unit(end, size_t(text.data() + text.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  uint64_t scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KiB" || unit == "K" || unit == "k") scale = 1ull << 10;
  else if (unit == "MiB" || unit == "M") scale = 1ull << 20;
  else if (unit == "GiB" || unit == "G") scale = 1ull << 30;
  else return false;
  if (number > UINT64_MAX / scale) return false;
  out = number * scale;
  return true;
}

bool load_table_text(std::string_view text, std::string_view source_name, const ConfigTable& table,
                     void* target, std::vector<ConfigFileReference>& files, ConfigError& error) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    error.message = fmt::format("{}:{}:{}: {}", source_name, e.source().begin.line,
                                e.source().begin.column, e.description());
    return false;
  }
  std::string base(source_name);
  const size_t slash = base.rfind('/');
  base = slash == std::string::npos ? std::string() : base.substr(0, slash == 0 ? 1 : slash);
  files.clear();
  TableReader reader(source_name, base, files, error);
  return reader.read_table(root, table, target, "");
}

bool load_config_text(std::string_view text, std::string_view source_name, AppConfig& out,
                      ConfigError& error) {
  out.source = std::string(source_name);
  return load_table_text(text, source_name, app_config_table(), &out, out.files, error);
}

bool load_config_file(const std::string& path, AppConfig& out, ConfigError& error) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error.message = fmt::format("{}: cannot open: {}", path, std::strerror(errno));
    return false;
  }
  std::string text;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
  std::fclose(file);
  return load_config_text(text, path, out, error);
}

bool check_config_files(const AppConfig& config, ConfigError& error) {
  for (const ConfigFileReference& file : config.files) {
    FILE* opened = std::fopen(file.path.c_str(), "rb");
    if (opened) {
      std::fclose(opened);
      continue;
    }
    error.message = fmt::format("{}:{}:{}: {}: cannot open {}: {}", config.source, file.line,
                                file.column, file.key, file.path, std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace wshub::app
