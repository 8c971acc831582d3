// /health as sections that each layer registers: the server its connections, counters,
// compression and TLS; the hub its channels and sessions. Sections are added before the
// workers start; after that the report is read-only and any thread may build it.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace wshub::server {

class HealthReport {
 public:
  // `value` returns the section's JSON value (an object, array or number); it runs on the
  // thread that serves /health, so it may read only what is safe from any thread.
  void add(std::string name, std::function<std::string()> value) {
    sections_.push_back({std::move(name), std::move(value)});
  }
  // {"status":"ok","NAME":VALUE,...}\n in the order the sections were added.
  std::string json() const {
    std::string out = "{\"status\":\"ok\"";
    for (const Section& section : sections_) {
      out += ",\"";
      out += section.name;
      out += "\":";
      out += section.value();
    }
    out += "}\n";
    return out;
  }

 private:
  struct Section {
    std::string name;
    std::function<std::string()> value;
  };
  std::vector<Section> sections_;
};

}  // namespace wshub::server
