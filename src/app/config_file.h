// Reads wshub's TOML config into ServerConfig. Every error names the file, line, column and
// key, and unknown keys are errors (a typo must not silently fall back to a default).
#pragma once

#include <string>
#include <string_view>

#include "server/config.h"

namespace wshub::app {

struct AppConfig {
  server::ServerConfig server = server::default_server_config();
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
};

struct ConfigError {
  std::string message;  // "FILE:LINE:COLUMN: KEY: what is wrong"
};

// Returns true and fills `out` on success; otherwise fills `error`.
bool load_config_file(const std::string& path, AppConfig& out, ConfigError& error);
bool load_config_text(std::string_view text, std::string_view source_name, AppConfig& out,
                      ConfigError& error);

// "auto", "epoll" or "io_uring". False for anything else.
bool parse_io_backend(std::string_view text, net::IoBackend& out);

// `text` as a TOML basic string, quoted and escaped, ready to paste into a config.
std::string toml_quoted(std::string_view text);

// "16MiB", "8 KiB", "1048576": bytes. False when `text` is not a size.
bool parse_byte_size(std::string_view text, uint64_t& out);

}  // namespace wshub::app
