// Log set-up: spdlog to stderr as human text or as one JSON object per line.
#pragma once

#include <string>

namespace wshub::app {

// `format` is "text" or "json"; `level` is an spdlog level name.
void configure_logging(const std::string& format, const std::string& level);

}  // namespace wshub::app
