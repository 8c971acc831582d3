// libFuzzer target for the HTTP head parser and the handshake checks behind it.
// Input layout: byte 0 picks the limits and seeds the chunk sizes; the rest is the bytes a peer
// sends. The head is fed in growing prefixes, each in a fresh heap block of exactly its size, so
// a read past what arrived trips AddressSanitizer; the result must equal a one-shot parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/handshake.h"
#include "proto/http_head.h"

namespace {

using wshub::proto::HttpHeadError;
using wshub::proto::HttpHeadParser;
using wshub::proto::HttpLimits;
using wshub::proto::HttpRequestHead;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

struct Outcome {
  HttpHeadParser::Status status;
  HttpHeadError error;
  std::string summary;  // method, target, version, headers, size: comparable across buffers
};

std::string summarize(const HttpRequestHead& head) {
  std::string s;
  s.append(head.method).append(" ").append(head.target).append(" ");
  s += char('0' + head.version_major);
  s += char('0' + head.version_minor);
  s += " " + std::to_string(head.head_size) + "\n";
  for (uint32_t i = 0; i < head.header_count; ++i)
    s.append(head.headers[i].name).append(":").append(head.headers[i].value).append("\n");
  return s;
}

bool inside(std::string_view view, const char* begin, size_t size) {
  return view.empty() || (view.data() >= begin && view.data() + view.size() <= begin + size);
}

void check_head(const HttpRequestHead& head, const char* buffer, size_t size,
                const HttpLimits& limits) {
  FUZZ_CHECK(head.head_size >= 4 && head.head_size <= size);
  FUZZ_CHECK(head.head_size <= limits.max_head_bytes);
  FUZZ_CHECK(std::memcmp(buffer + head.head_size - 4, "\r\n\r\n", 4) == 0);
  FUZZ_CHECK(head.header_count <= limits.max_headers);
  FUZZ_CHECK(head.version_major == 1);
  FUZZ_CHECK(!head.method.empty() && !head.target.empty());
  FUZZ_CHECK(inside(head.method, buffer, head.head_size));
  FUZZ_CHECK(inside(head.target, buffer, head.head_size));
  for (uint32_t i = 0; i < head.header_count; ++i) {
    const auto& h = head.headers[i];
    FUZZ_CHECK(!h.name.empty());
    FUZZ_CHECK(inside(h.name, buffer, head.head_size));
    FUZZ_CHECK(inside(h.value, buffer, head.head_size));
    FUZZ_CHECK(h.name.find_first_of(" \t:\r\n") == std::string_view::npos);
    FUZZ_CHECK(h.value.find_first_of("\r\n") == std::string_view::npos);
    if (!h.value.empty()) {
      FUZZ_CHECK(h.value.front() != ' ' && h.value.front() != '\t');
      FUZZ_CHECK(h.value.back() != ' ' && h.value.back() != '\t');
    }
    FUZZ_CHECK(head.find(h.name) != nullptr && head.count(h.name) >= 1);
  }
  FUZZ_CHECK(head.path().size() <= head.target.size());
}

void check_handshake(const HttpRequestHead& head) {
  static const std::string kOrigins[] = {"https://app.example.com"};
  static const std::string kProtocols[] = {"v2.chat", "v1.chat",
                                           std::string(wshub::proto::kMaxSubprotocolSize, 'p')};
  for (int variant = 0; variant < 2; ++variant) {
    wshub::proto::HandshakePolicy policy;
    if (variant == 1) {
      policy.allowed_origins = kOrigins;
      policy.subprotocols = kProtocols;
      policy.require_subprotocol = true;
    }
    const auto out = wshub::proto::check_upgrade(head, policy);
    const auto name = wshub::proto::handshake_error_name(out.error);
    FUZZ_CHECK(!name.empty());
    const uint16_t status = wshub::proto::handshake_status(out.error);
    if (out.error != wshub::proto::HandshakeError::none) {
      FUZZ_CHECK(!wshub::proto::handshake_error_sentence(out.error).empty());
      FUZZ_CHECK(status >= 400 && status < 500);
      continue;
    }
    FUZZ_CHECK(status == 101);
    FUZZ_CHECK(head.method == "GET" && head.version_minor >= 1);
    FUZZ_CHECK(wshub::proto::is_valid_websocket_key(out.key));
    FUZZ_CHECK(out.subprotocol.size() <= wshub::proto::kMaxSubprotocolSize);
    FUZZ_CHECK(variant == 0 ? out.subprotocol.empty() : !out.subprotocol.empty());
    // The 101 response fits the documented reserve exactly (heap block: ASan sees overruns).
    const std::string_view extensions = "permessage-deflate";
    const size_t capacity = wshub::proto::kUpgradeResponseReserve + extensions.size();
    auto response = std::make_unique<char[]>(capacity);
    const size_t size =
        wshub::proto::write_upgrade_response(response.get(), out.key, out.subprotocol, extensions);
    FUZZ_CHECK(size <= capacity);
    FUZZ_CHECK(std::string_view(response.get(), size).ends_with("\r\n\r\n"));
  }
}

Outcome parse_once(std::string_view bytes, const HttpLimits& limits) {
  HttpHeadParser parser(limits);
  HttpRequestHead head;
  auto copy = std::make_unique<char[]>(bytes.size() + 1);
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  const auto status = parser.parse({copy.get(), bytes.size()}, head);
  Outcome out{status, parser.error(),
              status == HttpHeadParser::Status::done ? summarize(head) : ""};
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  HttpLimits limits;  // defaults: 8192 bytes, 64 headers
  if (control & 0x01) {
    limits.max_head_bytes = 64 + (control >> 1) * 8;  // small enough for the fuzzer to reach
    limits.max_headers = 1 + (control >> 4);
  }

  HttpHeadParser parser(limits);
  HttpRequestHead head;
  uint32_t rng = 0x9E3779B9u ^ control;
  size_t have = 0;
  HttpHeadParser::Status status = HttpHeadParser::Status::need_more;
  std::unique_ptr<char[]> buffer;
  for (;;) {
    rng = rng * 1664525u + 1013904223u;
    const size_t max_step = (control & 0x06) == 0 ? 1 : (control & 0x06) == 2 ? 7 : 300;
    have = std::min(bytes.size(), have + 1 + (rng >> 16) % max_step);
    // A new block every call: the bytes a caller passes may move between calls.
    buffer = std::make_unique<char[]>(have ? have : 1);
    std::memcpy(buffer.get(), bytes.data(), have);
    status = parser.parse({buffer.get(), have}, head);
    if (status != HttpHeadParser::Status::need_more || have == bytes.size()) break;
  }

  const Outcome once = parse_once(bytes, limits);
  FUZZ_CHECK(once.status == status);
  FUZZ_CHECK(once.error == parser.error());
  if (status == HttpHeadParser::Status::error) {
    FUZZ_CHECK(parser.error() != HttpHeadError::none);
    FUZZ_CHECK(!wshub::proto::http_error_sentence(parser.error()).empty());
    FUZZ_CHECK(wshub::proto::http_status_of(parser.error()) >= 400);
    return 0;
  }
  if (status == HttpHeadParser::Status::need_more) {
    FUZZ_CHECK(bytes.size() < limits.max_head_bytes);
    return 0;
  }
  FUZZ_CHECK(once.summary == summarize(head));
  check_head(head, buffer.get(), have, limits);
  // The complete-head entry point agrees with the incremental parser.
  HttpRequestHead again;
  FUZZ_CHECK(wshub::proto::parse_complete_head({buffer.get(), head.head_size}, limits, again) ==
             HttpHeadError::none);
  FUZZ_CHECK(summarize(again) == summarize(head));
  check_handshake(head);
  return 0;
}
