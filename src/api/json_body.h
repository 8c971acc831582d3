// A JSON request body of the backend API, read once: validated whole, then its top-level
// fields by name, with the raw text of values passed through (`data`). Sans-I/O; one reader
// per thread reuses its buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wshub::api {

class JsonBody {
 public:
  JsonBody();
  ~JsonBody();
  JsonBody(const JsonBody&) = delete;
  JsonBody& operator=(const JsonBody&) = delete;

  // False with `problem` set when `body` is not a JSON object.
  bool parse(std::string_view body, std::string& problem);

  enum class Field : uint8_t { missing, ok, wrong_type };
  Field string(std::string_view key, std::string& out) const;
  Field integer(std::string_view key, int64_t& out) const;
  Field string_list(std::string_view key, std::vector<std::string>& out) const;
  // The value's JSON text exactly as it arrived.
  Field raw(std::string_view key, std::string& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wshub::api
