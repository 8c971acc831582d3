// Test support for HttpRequestReader and HttpResponseParser: plays the caller of a keep-alive
// connection that receives bytes in given pieces, and records what the reader reported as a
// list of lines that does not depend on how the bytes were split. Each call gets a fresh heap
// block of exactly the unconsumed bytes, so AddressSanitizer sees any read past them and any
// view kept from an older buffer.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/http_body.h"

namespace wshub::proto::test {

enum class BodyForm { streaming, collecting };

inline bool points_into(std::string_view view, const char* begin, size_t size) {
  return view.data() >= begin && view.data() + view.size() <= begin + size;
}

// Feeds `bytes` to `reader` in pieces ending at `ends` (then the rest), calling `next` until it
// needs more after each piece, and returns the trace:
//   "<describe(head)>"   for each head event
//   "complete <body>"    when a message ends (streamed bodies are concatenated first)
//   "error <name>"       and nothing after it
//   "need_more kept=N"   last, when the bytes ran out with N of them unconsumed
// `describe` is called on each head event with the reader and the head.
template <typename Reader, typename Head, typename Describe>
std::vector<std::string> feed(Reader& reader, std::string_view bytes, std::vector<size_t> ends,
                              BodyForm form, Describe&& describe) {
  std::vector<std::string> trace;
  std::string pending;   // bytes received and not consumed
  std::string store;     // the collecting form's body store
  std::string streamed;  // the streaming form's body so far
  auto head = std::make_unique<Head>();
  size_t fed = 0;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    if (end < fed || end > bytes.size()) continue;
    pending.append(bytes.substr(fed, end - fed));
    fed = end;
    for (int calls = 0;; ++calls) {
      if (calls > 100000) {
        ADD_FAILURE() << "the reader does not make progress";
        return trace;
      }
      auto buffer = std::make_unique<char[]>(pending.size() + 1);
      std::memcpy(buffer.get(), pending.data(), pending.size());
      const std::string_view input(buffer.get(), pending.size());
      const HttpReadEvent ev = form == BodyForm::collecting ? reader.next(input, *head, store)
                                                            : reader.next(input, *head);
      EXPECT_LE(ev.consumed, input.size());
      if (ev.consumed > input.size()) return trace;
      switch (ev.kind) {
        case HttpReadEvent::Kind::need_more: break;
        case HttpReadEvent::Kind::head:
          EXPECT_EQ(ev.consumed, head->head_size);
          trace.push_back(describe(reader, *head));
          streamed.clear();
          break;
        case HttpReadEvent::Kind::body:
          EXPECT_EQ(form, BodyForm::streaming) << "body events only in the streaming form";
          EXPECT_FALSE(ev.body.empty());
          EXPECT_TRUE(points_into(ev.body, input.data(), ev.consumed));
          streamed.append(ev.body);
          break;
        case HttpReadEvent::Kind::complete:
          if (form == BodyForm::collecting) {
            EXPECT_TRUE(ev.body.empty() || points_into(ev.body, input.data(), ev.consumed) ||
                        points_into(ev.body, store.data(), store.size()));
            trace.push_back("complete " + std::string(ev.body));
          } else {
            EXPECT_TRUE(ev.body.empty());
            trace.push_back("complete " + streamed);
          }
          streamed.clear();
          break;
        case HttpReadEvent::Kind::error:
          EXPECT_TRUE(ev.error.any());
          EXPECT_GE(ev.error.status(), 400);
          EXPECT_FALSE(ev.error.sentence().empty());
          trace.push_back("error " + std::string(ev.error.name()));
          return trace;
      }
      pending.erase(0, ev.consumed);
      if (ev.kind == HttpReadEvent::Kind::need_more) break;
    }
  }
  trace.push_back("need_more kept=" + std::to_string(pending.size()));
  return trace;
}

// Every way of splitting `bytes` the unit tests try: whole, byte by byte, in two at every
// point, and a few pseudo-random chunkings.
inline std::vector<std::pair<std::string, std::vector<size_t>>> splittings(size_t size) {
  std::vector<std::pair<std::string, std::vector<size_t>>> out;
  out.push_back({"whole", {}});
  std::vector<size_t> every;
  for (size_t i = 1; i < size; ++i) every.push_back(i);
  out.push_back({"byte by byte", every});
  for (size_t cut = 0; cut <= size; ++cut)
    out.push_back({"split at " + std::to_string(cut), {cut}});
  uint32_t rng = 12345;
  for (int round = 0; round < 8; ++round) {
    std::vector<size_t> ends;
    for (size_t at = 0; at < size;) {
      rng = rng * 1664525u + 1013904223u;
      at += 1 + (rng >> 16) % 13;
      ends.push_back(at);
    }
    out.push_back({"random chunks " + std::to_string(round), ends});
  }
  return out;
}

}  // namespace wshub::proto::test
