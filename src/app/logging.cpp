#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace wshub::app {

namespace {

// One JSON object per line; the message is escaped, so a log line is always valid JSON.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto time = std::chrono::system_clock::to_time_t(msg.time);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                            msg.time.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&time, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    fmt::format_to(std::back_inserter(dest), R"({{"time":"{}.{:03d}Z","level":"{}","msg":")",
                   stamp, int(millis), spdlog::level::to_string_view(msg.level));
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (uint8_t(c) < 0x20) fmt::format_to(std::back_inserter(dest), "\\u{:04x}", int(c));
          else dest.push_back(c);
      }
    }
    dest.append(std::string_view("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void configure_logging(const std::string& format, const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>(
      "wshub", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json") logger->set_formatter(std::make_unique<JsonFormatter>());
  else logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace wshub::app
