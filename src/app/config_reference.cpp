// The key reference (config_sections.h) made from the config tables: what `check-config
// --keys` prints and what the docs test compares docs/config.md with.
#include <fmt/format.h>

#include <algorithm>

#include "app/config_file.h"
#include "app/config_sections.h"

namespace wshub::app {

namespace {

std::string type_text(const KeyDescriptor& key) {
  switch (key.type) {
    case KeyType::count:
      return fmt::format("count, {}–{}", key.min, key.max);
    case KeyType::size:
      return fmt::format("size, {}–{}", show_size(key.min), show_size(key.max));
    case KeyType::duration_ms:
      return fmt::format("duration (ms), {}–{}", key.min, key.max);
    case KeyType::choice: {
      std::string names;
      for (std::string_view name : key.choices) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", name);
      return fmt::format("one of {}", names);
    }
    default:
      return key_type_name(key.type);
  }
}

// Depth first through the tables; `target` is a default AppConfig (or part of one), and the
// lists in it are emptied to show the defaults of a fresh entry.
void walk(const ConfigTable& table, void* target, const std::string& prefix,
          std::vector<KeyReference>& out) {
  for (const KeyDescriptor& key : table.keys) {
    KeyReference row;
    row.key = prefix.empty() ? std::string(key.name) : fmt::format("{}.{}", prefix, key.name);
    row.table = prefix;
    row.descriptor = &key;
    row.type = type_text(key);
    if (!key.options.shown_default.empty()) row.default_value = key.options.shown_default;
    else if (key.options.required) row.default_value = "required";
    else if (key.show) row.default_value = key.show(target);
    const std::string name = row.key;  // `out` grows below
    out.push_back(std::move(row));
    if (key.type == KeyType::table) {
      walk(*key.nested, key.open(target), name, out);
    } else if (key.type == KeyType::table_list) {
      key.clear(target);
      walk(*key.nested, key.append(target), name, out);
    }
  }
}

}  // namespace

std::vector<KeyReference> table_reference(const ConfigTable& root, void* defaults) {
  std::vector<KeyReference> out;
  walk(root, defaults, "", out);
  return out;
}

std::string reference_markdown(const std::vector<KeyReference>& reference) {
  std::vector<std::string> tables;  // in order of first appearance
  for (const KeyReference& row : reference)
    if (!row.table.empty() && std::find(tables.begin(), tables.end(), row.table) == tables.end())
      tables.push_back(row.table);
  std::string out;
  for (const std::string& table : tables) {
    const KeyReference* self = nullptr;
    for (const KeyReference& row : reference)
      if (row.key == table) self = &row;
    const bool is_list = self->descriptor->type == KeyType::table_list;
    out += fmt::format("\n## `{}{}{}`\n\n{}", is_list ? "[[" : "[", table, is_list ? "]]" : "]",
                       self->descriptor->doc);
    if (!self->default_value.empty()) out += fmt::format(" (default: {})", self->default_value);
    out += ".\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const KeyReference& row : reference)
      if (row.table == table)
        out += fmt::format("| `{}` | {} | `{}` | {} |\n", row.descriptor->name, row.type,
                           row.default_value, row.descriptor->doc);
  }
  return out;
}

std::vector<KeyReference> app_config_reference() {
  AppConfig defaults;
  return table_reference(app_config_table(), &defaults);
}

std::string app_config_reference_markdown() {
  return "# wshub configuration keys\n" + reference_markdown(app_config_reference());
}

}  // namespace wshub::app
