// libFuzzer target for HttpRequestReader and HttpResponseParser over pipelined messages: head,
// framing, Content-Length / chunked / until-close bodies, trailers, limits.
// Input layout: byte 0 — bit 0 small limits, bits 1-2 chunk sizes (1 byte, up to 7, up to 300,
// up to 4096), bit 3 responses instead of requests, bit 4 responses answer HEAD; byte 1 seeds
// the chunk sizes; the rest is what the peer sent. The stream is read three ways that must
// report the same events: whole and streamed, in random chunks and streamed, in other random
// chunks and collected. Each call gets a fresh heap block of exactly the unconsumed bytes, so
// AddressSanitizer sees a read past them. Every event is checked against the limits on its own.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/http_request_reader.h"
#include "proto/http_response.h"
#include "proto/http_response_parser.h"

namespace {

using namespace wshub::proto;
using Kind = HttpReadEvent::Kind;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

struct Config {
  HttpMessageLimits limits;
  bool responses = false;
  bool answering_head = false;
  int chunk_mode = 0;
  uint32_t seed = 0;
};

bool inside(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

// What a caller may have to keep between calls: part of a head, of a chunk-size line, of a
// chunk's CRLF or of a trailer line. Never a body, never more than the largest of the limits.
size_t max_kept(const HttpMessageLimits& limits) {
  return std::max<size_t>({limits.head.max_head_bytes, limits.body.max_chunk_line_bytes + 2u,
                           limits.body.max_trailer_bytes, 2u});
}

template <typename Head>
std::string describe_head(const Head& head, HttpBodyKind body, uint64_t length, bool keep_alive) {
  std::string s = "head ";
  if constexpr (std::is_same_v<Head, HttpRequestHead>) {
    s.append(head.method).append(" ").append(head.target);
  } else {
    s += std::to_string(head.status);
  }
  s += " 1." + std::to_string(head.version_minor) + " " + std::to_string(head.header_count) +
       " body " + std::to_string(int(body)) + " " + std::to_string(length) +
       (keep_alive ? " keep" : " close");
  return s;
}

// Reads `stream` in pieces (`max_step` 0: whole) and returns the trace of events; streamed
// bodies are joined so traces do not depend on the pieces.
template <typename Reader, typename Head>
std::vector<std::string> read_all(const Config& config, std::string_view stream, size_t max_step,
                                  uint32_t seed, bool collecting) {
  Reader reader(config.limits);
  if constexpr (std::is_same_v<Reader, HttpResponseParser>)
    if (config.answering_head) reader.set_request_method("HEAD");
  auto head = std::make_unique<Head>();
  std::vector<std::string> trace;
  std::string pending, store, body;
  uint64_t declared = 0;
  HttpBodyKind kind = HttpBodyKind::none;
  size_t fed = 0;
  uint32_t rng = seed;
  const uint64_t max_body = config.limits.body.max_body_bytes;
  while (fed < stream.size() || fed == 0) {
    size_t step = stream.size() - fed;
    if (max_step != 0) {
      rng = rng * 1664525u + 1013904223u;
      step = std::min(step, 1 + size_t(rng >> 12) % max_step);
    }
    pending.append(stream.substr(fed, step));
    fed += step;
    for (int calls = 0;; ++calls) {
      FUZZ_CHECK(calls < 1000000);
      auto block = std::make_unique<char[]>(pending.size() + 1);
      std::memcpy(block.get(), pending.data(), pending.size());
      const std::string_view input(block.get(), pending.size());
      const HttpReadEvent ev =
          collecting ? reader.next(input, *head, store) : reader.next(input, *head);
      FUZZ_CHECK(ev.consumed <= input.size());
      const std::string_view consumed = input.substr(0, ev.consumed);
      switch (ev.kind) {
        case Kind::need_more: FUZZ_CHECK(ev.body.empty()); break;
        case Kind::head: {
          FUZZ_CHECK(ev.consumed == head->head_size);
          FUZZ_CHECK(head->head_size <= config.limits.head.max_head_bytes);
          FUZZ_CHECK(head->header_count <= config.limits.head.max_headers);
          for (uint32_t i = 0; i < head->header_count; ++i) {
            FUZZ_CHECK(inside(head->headers[i].name, consumed));
            FUZZ_CHECK(inside(head->headers[i].value, consumed));
          }
          const auto& framing = reader.framing();
          kind = framing.body;
          declared = framing.content_length;
          if (kind == HttpBodyKind::length) FUZZ_CHECK(declared > 0 && declared <= max_body);
          if (kind == HttpBodyKind::until_close) FUZZ_CHECK(!framing.keep_alive);
          FUZZ_CHECK(reader.mid_message());
          // The store is emptied at each head, its capacity kept.
          if (collecting) FUZZ_CHECK(store.empty());
          trace.push_back(describe_head(*head, kind, declared, framing.keep_alive));
          body.clear();
          break;
        }
        case Kind::body:
          FUZZ_CHECK(!collecting);
          FUZZ_CHECK(!ev.body.empty() && inside(ev.body, consumed));
          body.append(ev.body);
          FUZZ_CHECK(body.size() <= max_body);
          if (kind == HttpBodyKind::length) FUZZ_CHECK(body.size() <= declared);
          break;
        case Kind::complete: {
          if (collecting) {
            FUZZ_CHECK(inside(ev.body, consumed) || inside(ev.body, store));
            body.assign(ev.body);
          } else {
            FUZZ_CHECK(ev.body.empty());
          }
          FUZZ_CHECK(body.size() <= max_body);
          if (kind == HttpBodyKind::length) FUZZ_CHECK(body.size() == declared);
          if (kind == HttpBodyKind::none) FUZZ_CHECK(body.empty());
          FUZZ_CHECK(!reader.mid_message());
          trace.push_back("complete " + std::to_string(body.size()) + " " + body);
          body.clear();
          break;
        }
        case Kind::error: {
          FUZZ_CHECK(ev.error.any() && ev.error == reader.error());
          FUZZ_CHECK(ev.error.status() >= 400 && ev.error.status() < 600);
          FUZZ_CHECK(!ev.error.sentence().empty());
          // A failed reader stays failed and takes nothing more.
          const HttpReadEvent again = reader.next(input, *head);
          FUZZ_CHECK(again.kind == Kind::error && again.consumed == 0 && again.error == ev.error);
          trace.push_back("error " + std::string(ev.error.name()));
          return trace;
        }
      }
      // The store only ever holds bytes that arrived, within the limit.
      FUZZ_CHECK(store.size() <= fed && store.size() <= max_body);
      pending.erase(0, ev.consumed);
      if (ev.kind == Kind::need_more) {
        FUZZ_CHECK(pending.size() < max_kept(config.limits));
        break;
      }
    }
    if (stream.empty()) break;
  }
  trace.push_back("need_more kept " + std::to_string(pending.size()));
  if constexpr (std::is_same_v<Reader, HttpResponseParser>) {
    const HttpReadEvent end = reader.finish(collecting ? &store : nullptr);
    if (end.kind == Kind::complete) {
      FUZZ_CHECK(kind == HttpBodyKind::until_close || kind == HttpBodyKind::none);
      trace.push_back("closed complete " +
                      std::to_string(collecting ? end.body.size() : body.size()));
    } else {
      trace.push_back("closed " + std::string(end.error.name()));
    }
  }
  return trace;
}

// A request's answer, written and parsed back: the writer and the parser agree.
void check_response_round_trip(uint16_t status, const HttpRequestFraming& request,
                               std::string_view body) {
  HttpResponseFields fields;
  fields.status = status;
  fields.content_type = "application/json";
  fields.answering(request);
  std::string bytes;
  append_http_response(bytes, fields, body);
  FUZZ_CHECK(bytes.size() >= http_response_head_size(fields, body.size()));
  HttpResponseParser parser(HttpMessageLimits{{}, {.max_body_bytes = body.size() + 1}});
  if (request.head_method) parser.set_request_method("HEAD");
  auto head = std::make_unique<HttpResponseHead>();
  std::string store;
  HttpReadEvent ev = parser.next(bytes, *head, store);
  FUZZ_CHECK(ev.kind == Kind::head && head->status == status);
  FUZZ_CHECK(parser.framing().keep_alive == !fields.close);
  ev = parser.next(std::string_view(bytes).substr(ev.consumed), *head, store);
  FUZZ_CHECK(ev.kind == Kind::complete);
  FUZZ_CHECK(ev.body == (request.head_method || status == 204 ? std::string_view() : body));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t control = data[0];
  Config config;
  config.responses = control & 0x08;
  config.answering_head = control & 0x10;
  config.seed = 0x9E3779B9u ^ (uint32_t(data[1]) << 8) ^ control;
  if (control & 0x01) {
    // Small enough for the fuzzer to reach every limit.
    config.limits.head.max_head_bytes = 48 + (control >> 5) * 16;
    config.limits.head.max_headers = 1 + (data[1] & 7);
    config.limits.body.max_body_bytes = 1 + (data[1] >> 3) * 3;
    config.limits.body.max_chunk_line_bytes = 4 + (control >> 5);
    config.limits.body.max_chunk_extension_bytes = 2 + (data[1] & 15);
    config.limits.body.max_trailer_bytes = 2 + (data[1] >> 2);
    config.limits.body.max_trailers = data[1] & 3;
  }
  static constexpr size_t kMaxSteps[] = {1, 7, 300, 4096};
  const size_t max_step = kMaxSteps[(control >> 1) & 3];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  if (config.responses) {
    const auto whole = read_all<HttpResponseParser, HttpResponseHead>(config, stream, 0, 0, false);
    FUZZ_CHECK(whole == (read_all<HttpResponseParser, HttpResponseHead>(config, stream, max_step,
                                                                        config.seed, false)));
    FUZZ_CHECK(whole == (read_all<HttpResponseParser, HttpResponseHead>(
                            config, stream, max_step, config.seed * 7 + 1, true)));
    return 0;
  }
  const auto whole = read_all<HttpRequestReader, HttpRequestHead>(config, stream, 0, 0, false);
  FUZZ_CHECK(whole == (read_all<HttpRequestReader, HttpRequestHead>(config, stream, max_step,
                                                                    config.seed, false)));
  FUZZ_CHECK(whole == (read_all<HttpRequestReader, HttpRequestHead>(config, stream, max_step,
                                                                    config.seed * 7 + 1, true)));

  // The first request, answered and parsed back.
  HttpRequestReader reader(config.limits);
  auto head = std::make_unique<HttpRequestHead>();
  std::string store;
  const HttpReadEvent first = reader.next(stream, *head, store);
  if (first.kind == Kind::head) {
    const HttpRequestFraming framing = reader.framing();
    const HttpReadEvent done = reader.next(stream.substr(first.consumed), *head, store);
    if (done.kind == Kind::complete) {
      static constexpr uint16_t kStatuses[] = {200, 202, 204, 400, 413};
      check_response_round_trip(kStatuses[data[1] % 5], framing, done.body);
    }
  }
  return 0;
}
