// wshub's config tables: one ConfigTable per TOML table ([server], [[listen]], [listen.tls],
// [[listen.tls.sni]], [[route]], [limits], [compression]), bound to the structs they fill.
// A new section is one more table here and one key in app_config_table().
#pragma once

#include <string>
#include <vector>

#include "app/config_schema.h"

namespace wshub::app {

// The whole file, bound to AppConfig: its keys are the sections.
const ConfigTable& app_config_table();

// [limits] (server::Limits) and [compression] (proto::DeflatePolicy), in config_limits.cpp.
const ConfigTable& limits_table();
const ConfigTable& compression_table();

// [hub] with [[hub.namespace]] and [hub.jwt], [api], and [[webhook]], in config_hub.cpp.
const ConfigTable& hub_table();
const ConfigTable& api_table();
const ConfigTable& webhook_table();
const ConfigTable& store_table();
const ConfigTable& inbox_table();
bool check_webhooks(const struct AppConfig& config, ListCheck& list);

// Every key of app_config_table() with AppConfig's defaults.
std::vector<KeyReference> app_config_reference();

// The same as Markdown (`check-config --keys`).
std::string app_config_reference_markdown();

}  // namespace wshub::app
