// Throughput of the proto layer's hot functions: head parsing, frame reading, unmasking,
// UTF-8 validation and reading backend API requests. Reported as bytes/s (Google Benchmark's
// SetBytesProcessed) and items/s.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "proto/frame.h"
#include "proto/handshake.h"
#include "proto/http_head.h"
#include "proto/http_request_reader.h"
#include "proto/http_response.h"
#include "proto/mask.h"
#include "proto/message_reader.h"
#include "proto/utf8.h"

using namespace wshub;
using namespace wshub::proto;

namespace {

const std::string kChromeHead =
    "GET /login HTTP/1.1\r\n"
    "Host: test.ws.com\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: https://test.ws.com\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9,zh-CN;q=0.8\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

void BM_ParseHead(benchmark::State& state) {
  HttpRequestHead head;
  for (auto _ : state) {
    HttpHeadParser parser;
    benchmark::DoNotOptimize(parser.parse(kChromeHead, head));
    benchmark::DoNotOptimize(head.header_count);
  }
  state.SetBytesProcessed(int64_t(state.iterations() * kChromeHead.size()));
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_ParseHead);

void BM_ParseHeadAndCheckUpgrade(benchmark::State& state) {
  HttpRequestHead head;
  HandshakePolicy policy;
  char response[kUpgradeResponseReserve];
  for (auto _ : state) {
    HttpHeadParser parser;
    parser.parse(kChromeHead, head);
    HandshakeOutcome outcome = check_upgrade(head, policy);
    benchmark::DoNotOptimize(write_upgrade_response(response, outcome.key, outcome.subprotocol));
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_ParseHeadAndCheckUpgrade);

// A backend's publish on a keep-alive connection: the headers an HTTP client library sends and a
// 100-byte JSON body.
std::string publish_request() {
  std::string body =
      R"({"channel":"orders.eu","event":"created","data":{"id":184467,"total":"12.50"}})";
  body.append(100 - body.size(), ' ');
  return "POST /api/publish HTTP/1.1\r\n"
         "Host: hub.internal:8080\r\n"
         "User-Agent: backend-client/2.3\r\n"
         "Accept: application/json\r\n"
         "Authorization: Bearer 3q2+7wAAAAAAAAAAb2tlbi1mb3ItdGhlLWJlbmNo\r\n"
         "Content-Type: application/json\r\n"
         "Content-Length: 100\r\n"
         "\r\n" + body;
}

// One request per iteration through the same reader, as on a keep-alive connection: head,
// framing and body. Arg 0 streams the body as events, arg 1 collects it (in place here).
void BM_ReadPublishRequest(benchmark::State& state) {
  const std::string wire = publish_request();
  const bool collecting = state.range(0) != 0;
  HttpRequestReader reader;
  HttpRequestHead head;
  std::string store;
  size_t body_bytes = 0;
  for (auto _ : state) {
    std::string_view input = wire;
    for (;;) {
      const HttpReadEvent ev =
          collecting ? reader.next(input, head, store) : reader.next(input, head);
      input.remove_prefix(ev.consumed);
      body_bytes += ev.body.size();
      if (ev.kind == HttpReadEvent::Kind::complete || ev.kind == HttpReadEvent::Kind::error ||
          ev.kind == HttpReadEvent::Kind::need_more)
        break;
    }
  }
  if (body_bytes != size_t(state.iterations()) * 100) state.SkipWithError("the body was not read");
  state.SetBytesProcessed(int64_t(state.iterations() * wire.size()));
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_ReadPublishRequest)->Arg(0)->Arg(1)->ArgNames({"collecting"});

// The answer to it: a 202 with a small JSON body, into a reused buffer.
void BM_WriteApiResponse(benchmark::State& state) {
  std::string out;
  HttpResponseFields fields;
  fields.status = 202;
  fields.content_type = "application/json";
  for (auto _ : state) {
    out.clear();
    append_http_response(out, fields, R"({"id":"184467","delivered":3})");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_WriteApiResponse);

// A buffer of `count` masked client frames of `size` bytes each, like a read full of messages.
std::vector<uint8_t> masked_frames(size_t size, size_t count, Opcode opcode) {
  std::vector<uint8_t> out;
  std::string payload(size, 'a');
  for (size_t i = 0; i < count; ++i) {
    uint8_t header[kMaxHeaderSize];
    size_t n = write_masked_frame_header(header, opcode, size, 0x12345678u);
    out.insert(out.end(), header, header + n);
    size_t at = out.size();
    out.insert(out.end(), payload.begin(), payload.end());
    apply_mask(out.data() + at, size, 0x12345678u);
  }
  return out;
}

void BM_ReadMessages(benchmark::State& state) {
  const size_t size = size_t(state.range(0));
  const size_t count = std::max<size_t>(1, 65536 / (size + 14));
  const std::vector<uint8_t> wire = masked_frames(size, count, Opcode::text);
  std::vector<uint8_t> buffer(wire.size());
  ReaderLimits limits;
  MessageReader reader;
  for (auto _ : state) {
    std::memcpy(buffer.data(), wire.data(), wire.size());  // the reader unmasks in place
    MutableBytes input(buffer.data(), buffer.size());
    size_t messages = 0;
    for (;;) {
      ReadEvent event = reader.next(input, limits);
      if (event.kind != ReadEvent::Kind::message) break;
      ++messages;
    }
    benchmark::DoNotOptimize(messages);
  }
  state.SetBytesProcessed(int64_t(state.iterations() * wire.size()));
  state.SetItemsProcessed(int64_t(state.iterations() * count));
}
BENCHMARK(BM_ReadMessages)->Arg(16)->Arg(128)->Arg(1024)->Arg(16384)->Arg(65536);

void BM_Unmask(benchmark::State& state) {
  std::vector<uint8_t> data(size_t(state.range(0)), 0x5A);
  for (auto _ : state) {
    apply_mask(data.data(), data.size(), 0xA1B2C3D4u, 1);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations() * data.size()));
}
BENCHMARK(BM_Unmask)->Arg(16)->Arg(125)->Arg(1024)->Arg(65536)->Arg(1 << 20);

std::string utf8_text(size_t size, bool ascii) {
  // Mixed text: ASCII JSON with Chinese device names and an emoji, as the hub carries.
  const std::string unit = ascii ? R"({"device":"pump-17","temp":21.5,"ok":true},)"
                                 : "{\"设备\":\"水泵-17\",\"温度\":21.5,\"状态\":\"正常\",\"😀\":1},";
  std::string out;
  while (out.size() + unit.size() <= size) out += unit;
  out.append(size - out.size(), 'x');
  return out;
}

void BM_Utf8Incremental(benchmark::State& state) {
  const std::string text = utf8_text(size_t(state.range(0)), state.range(1) != 0);
  for (auto _ : state) {
    Utf8Validator validator;
    benchmark::DoNotOptimize(validator.feed(as_bytes(text)) && validator.complete());
  }
  state.SetBytesProcessed(int64_t(state.iterations() * text.size()));
}
BENCHMARK(BM_Utf8Incremental)->ArgsProduct({{64, 4096, 1 << 20}, {1, 0}})->ArgNames({"size", "ascii"});

void BM_Utf8Whole(benchmark::State& state) {
  const std::string text = utf8_text(size_t(state.range(0)), state.range(1) != 0);
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(as_bytes(text)));
  state.SetBytesProcessed(int64_t(state.iterations() * text.size()));
}
BENCHMARK(BM_Utf8Whole)->ArgsProduct({{16, 64, 4096, 1 << 20}, {1, 0}})->ArgNames({"size", "ascii"});

void BM_AcceptKey(benchmark::State& state) {
  char out[kAcceptKeySize];
  for (auto _ : state) {
    compute_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_AcceptKey);

}  // namespace
