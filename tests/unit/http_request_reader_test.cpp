// HttpRequestReader: bodies by Content-Length and chunked, the request-smuggling rules, limits,
// trailers, Expect, keep-alive and pipelining. Every input is fed whole, byte by byte, split in
// two at every point and in random pieces, in both the streaming and the collecting form, and
// must give exactly the same events.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_feed.h"
#include "proto/http_request_reader.h"

namespace wshub::proto {
namespace {

using test::BodyForm;
using Trace = std::vector<std::string>;

std::string describe(const HttpRequestReader& reader, const HttpRequestHead& head) {
  const HttpRequestFraming& f = reader.framing();
  std::string s = "head " + std::string(head.method) + " " + std::string(head.target) +
                  " 1." + std::to_string(head.version_minor);
  switch (f.body) {
    case HttpBodyKind::none: s += " none"; break;
    case HttpBodyKind::length: s += " length=" + std::to_string(f.content_length); break;
    case HttpBodyKind::chunked: s += " chunked"; break;
    case HttpBodyKind::until_close: s += " until_close"; break;
  }
  s += f.keep_alive ? " keep-alive" : " close";
  if (f.expect_continue) s += " expect-100";
  return s;
}

Trace read_requests(std::string_view bytes, std::vector<size_t> ends, BodyForm form,
                    const HttpMessageLimits& limits) {
  HttpRequestReader reader(limits);
  return test::feed<HttpRequestReader, HttpRequestHead>(reader, bytes, std::move(ends), form,
                                                        describe);
}

// The same trace whatever the form and however the bytes are split.
void expect_trace(std::string_view bytes, const Trace& expected,
                  const HttpMessageLimits& limits = {}) {
  SCOPED_TRACE(testing::PrintToString(std::string(bytes)));
  for (BodyForm form : {BodyForm::streaming, BodyForm::collecting}) {
    const char* form_name = form == BodyForm::streaming ? "streaming" : "collecting";
    for (const auto& [how, ends] : test::splittings(bytes.size())) {
      const Trace got = read_requests(bytes, ends, form, limits);
      EXPECT_EQ(got, expected) << form_name << ", " << how;
      if (got != expected) return;
    }
  }
}

// A request that must fail with `error` right after its head (or inside its body).
void expect_error(std::string_view bytes, HttpMessageError error,
                  const HttpMessageLimits& limits = {}) {
  expect_trace(bytes, {"error " + std::string(http_error_name(error))}, limits);
}

const std::string kPost = "POST /api/publish HTTP/1.1\r\nHost: hub\r\n";
const std::string kChunkedHead = kPost + "Transfer-Encoding: chunked\r\n\r\n";
const std::string kChunkedHeadEvent = "head POST /api/publish 1.1 chunked keep-alive";

// A chunked request whose head is fine and whose `body` fails with `error`.
void expect_chunked_error(std::string_view body, HttpMessageError error,
                          const HttpMessageLimits& limits = {}) {
  expect_trace(kChunkedHead + std::string(body),
               {kChunkedHeadEvent, "error " + std::string(http_error_name(error))}, limits);
}

HttpMessageLimits small_body_limit(uint64_t max_body_bytes) {
  HttpMessageLimits limits;
  limits.body.max_body_bytes = max_body_bytes;
  return limits;
}

TEST(HttpRequestReader, ContentLengthBody) {
  expect_trace(kPost + "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
                       "{\"a\":\"hello\"}",
               {"head POST /api/publish 1.1 length=13 keep-alive", "complete {\"a\":\"hello\"}",
                "need_more kept=0"});
}

TEST(HttpRequestReader, RequestsWithoutLengthHaveNoBody) {
  expect_trace("GET /health HTTP/1.1\r\nHost: hub\r\n\r\n",
               {"head GET /health 1.1 none keep-alive", "complete ", "need_more kept=0"});
  expect_trace("HEAD /health HTTP/1.1\r\nHost: hub\r\n\r\n",
               {"head HEAD /health 1.1 none keep-alive", "complete ", "need_more kept=0"});
  expect_trace(kPost + "\r\n",
               {"head POST /api/publish 1.1 none keep-alive", "complete ", "need_more kept=0"});
  expect_trace(kPost + "Content-Length: 0\r\n\r\n",
               {"head POST /api/publish 1.1 none keep-alive", "complete ", "need_more kept=0"});
}

TEST(HttpRequestReader, GetWithContentLengthBodyIsFramedByIt) {
  // Ignoring it would make the body the next request: read it, whatever the method.
  expect_trace("GET /x HTTP/1.1\r\nHost: hub\r\nContent-Length: 3\r\n\r\nabcGET /y HTTP/1.1\r\n"
               "Host: hub\r\n\r\n",
               {"head GET /x 1.1 length=3 keep-alive", "complete abc",
                "head GET /y 1.1 none keep-alive", "complete ", "need_more kept=0"});
}

TEST(HttpRequestReader, ChunkedBody) {
  expect_trace(kPost + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n"
                       "0\r\n\r\n",
               {"head POST /api/publish 1.1 chunked keep-alive", "complete hello world",
                "need_more kept=0"});
  // Hex digits of either case, leading zeros, codings are case-insensitive.
  expect_trace(kPost + "Transfer-Encoding: Chunked\r\n\r\n00000000000000000000000A\r\n"
                       "0123456789\r\na\r\nabcdefghij\r\n000\r\n\r\n",
               {"head POST /api/publish 1.1 chunked keep-alive",
                "complete 0123456789abcdefghij", "need_more kept=0"});
  // An empty chunked body.
  expect_trace(kPost + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               {"head POST /api/publish 1.1 chunked keep-alive", "complete ",
                "need_more kept=0"});
}

TEST(HttpRequestReader, ChunkExtensionsAreAcceptedAndIgnored) {
  expect_trace(kPost + "Transfer-Encoding: chunked\r\n\r\n"
                       "5;name=value;flag ; q = \"a \\\"quoted\\\" ;x\"\r\nhello\r\n"
                       "0;last\r\n\r\n",
               {"head POST /api/publish 1.1 chunked keep-alive", "complete hello",
                "need_more kept=0"});
}

TEST(HttpRequestReader, BadChunkSizeLines) {
  for (std::string_view line : {"", "g", "x5", "-5", "+5", "0x5", "5x", "\t5", " 5", "5\r5",
                                "5,"})
    expect_chunked_error(std::string(line) + "\r\nhello\r\n0\r\n\r\n",
                 HttpMessageError::bad_chunk_size);
  // A chunk-size line ending in a bare LF.
  expect_chunked_error("5\nhello\r\n0\r\n\r\n", HttpMessageError::bad_chunk_size);
}

TEST(HttpRequestReader, BadChunkExtensions) {
  for (std::string_view line : {"5 ", "5;", "5;=x", "5; ", "5;a=", "5;a= ", "5;a b", "5;a=b c",
                                "5;a=\"open", "5;a=\"x\"y", "5;a=\"\\\x01\"", "5;a=b;", "5;a@b",
                                "5;a=\"\x7f\"", "5 ;a ", "5;a=b "})
    expect_chunked_error(std::string(line) + "\r\nhello\r\n0\r\n\r\n",
                 HttpMessageError::bad_chunk_extension);
}

TEST(HttpRequestReader, ChunkSizeOverflowingSixtyFourBits) {
  expect_chunked_error("10000000000000000\r\n", HttpMessageError::chunk_size_overflow);
  expect_chunked_error("fffffffffffffffff\r\n", HttpMessageError::chunk_size_overflow);
  // 64 bits fit but are far above the body limit: 413 before any byte of the chunk.
  expect_chunked_error("ffffffffffffffff\r\nab", HttpMessageError::body_too_large);
  expect_chunked_error("00000000000000000000ffffffffffffffff\r\n",
               HttpMessageError::body_too_large);
}

TEST(HttpRequestReader, ChunkLongerThanDeclared) {
  expect_chunked_error("3\r\nhello\r\n0\r\n\r\n", HttpMessageError::bad_chunk_end);
  expect_chunked_error("5\r\nhello\r0\r\n\r\n", HttpMessageError::bad_chunk_end);
  expect_chunked_error("5\r\nhello\n0\r\n\r\n", HttpMessageError::bad_chunk_end);
}

TEST(HttpRequestReader, ChunkLineLimitAndWhatTheCallerKeeps) {
  HttpMessageLimits limits;
  limits.body.max_chunk_line_bytes = 16;
  const std::string line16 = "1;" + std::string(14, 'a');  // the size and 15 extension bytes
  expect_trace(kChunkedHead + line16 + "\r\nx\r\n0\r\n\r\n",
               {kChunkedHeadEvent, "complete x", "need_more kept=0"}, limits);
  // 17 bytes: refused as soon as 18 bytes hold no line end, without waiting for the CRLF.
  expect_trace(kChunkedHead + line16 + "a\r\nx\r\n0\r\n\r\n",
               {kChunkedHeadEvent, "error chunk_line_too_long"}, limits);
  expect_trace(kChunkedHead + line16 + "abcdefghijklmnop",
               {kChunkedHeadEvent, "error chunk_line_too_long"}, limits);
  // While a line is incomplete the caller keeps it: never more than the limit and the CR.
  expect_trace(kChunkedHead + line16 + "\r", {kChunkedHeadEvent, "need_more kept=17"}, limits);
}

TEST(HttpRequestReader, ChunkExtensionsOfOneMessageAreLimitedTogether) {
  HttpMessageLimits limits;
  limits.body.max_chunk_extension_bytes = 10;
  // 4 + 4 + 2 extension bytes, then 4 + 4 + 3.
  expect_trace(kChunkedHead + "1;abc\r\nx\r\n1;abc\r\ny\r\n0;a\r\n\r\n",
               {kChunkedHeadEvent, "complete xy", "need_more kept=0"}, limits);
  expect_trace(kChunkedHead + "1;abc\r\nx\r\n1;abc\r\ny\r\n0;ab\r\n\r\n",
               {kChunkedHeadEvent, "error chunk_extensions_too_large"}, limits);
}

TEST(HttpRequestReader, Trailers) {
  expect_trace(kChunkedHead + "2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n",
               {kChunkedHeadEvent, "complete hi", "need_more kept=0"});
  // Framing headers in trailers change nothing.
  expect_trace(kChunkedHead +
                   "2\r\nhi\r\n0\r\nContent-Length: 100\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
               {kChunkedHeadEvent, "complete hi", "head GET / 1.1 none keep-alive", "complete ",
                "need_more kept=0"});
  for (std::string_view trailer : {"no colon", " folded: x", "X-A : b", "X@: b", "X: a\x01",
                                   "X: a\rb"})
    expect_chunked_error("0\r\n" + std::string(trailer) + "\r\n\r\n",
                 HttpMessageError::bad_trailer);
  expect_chunked_error("0\r\nX: y\n\r\n", HttpMessageError::bad_trailer);
  // The final CRLF is required.
  expect_chunked_error("0\r\n\n", HttpMessageError::bad_trailer);
  expect_trace(kChunkedHead + "0\r\n", {kChunkedHeadEvent, "need_more kept=0"});
  expect_trace(kChunkedHead + "0\r\nX-A: partial", {kChunkedHeadEvent, "need_more kept=12"});
}

TEST(HttpRequestReader, TrailerLimits) {
  HttpMessageLimits limits;
  limits.body.max_trailers = 2;
  limits.body.max_trailer_bytes = 24;
  // 9 + 9 + 2 = 20 bytes, two fields.
  expect_trace(kChunkedHead + "0\r\nA: 1234\r\nB: 5678\r\n\r\n",
               {kChunkedHeadEvent, "complete ", "need_more kept=0"}, limits);
  expect_trace(kChunkedHead + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
               {kChunkedHeadEvent, "error too_many_trailers"}, limits);
  // 22 + 2 = 24 bytes exactly, then 25.
  expect_trace(kChunkedHead + "0\r\nA: 12345678901234567\r\n\r\n",
               {kChunkedHeadEvent, "complete ", "need_more kept=0"}, limits);
  expect_trace(kChunkedHead + "0\r\nA: 123456789012345678\r\n\r\n",
               {kChunkedHeadEvent, "error trailers_too_large"}, limits);
  expect_trace(kChunkedHead + "0\r\nA: 1234\r\nB: 1234567890123\r\n\r\n",
               {kChunkedHeadEvent, "error trailers_too_large"}, limits);
}

TEST(HttpRequestReader, ContentLengthAndTransferEncodingTogetherAreRefused) {
  expect_error(kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               HttpMessageError::content_length_with_transfer_encoding);
  expect_error(kPost + "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n",
               HttpMessageError::content_length_with_transfer_encoding);
  EXPECT_EQ(http_status_of(HttpMessageError::content_length_with_transfer_encoding), 400);
}

TEST(HttpRequestReader, ChunkedMustBeTheOnlyAndFinalCoding) {
  for (std::string_view te : {"chunked, identity", "chunked, gzip", "chunked, chunked",
                              "chunked,chunked"})
    expect_error(kPost + "Transfer-Encoding: " + std::string(te) + "\r\n\r\n0\r\n\r\n",
                 HttpMessageError::chunked_not_final);
  expect_error(kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
               HttpMessageError::chunked_not_final);
  expect_error(kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
               HttpMessageError::chunked_not_final);
  EXPECT_EQ(http_status_of(HttpMessageError::chunked_not_final), 400);
}

TEST(HttpRequestReader, OtherTransferCodingsAreNotImplemented) {
  for (std::string_view te : {"gzip", "identity", "gzip, chunked", "deflate,chunked",
                              "x-custom;q=1, chunked"})
    expect_error(kPost + "Transfer-Encoding: " + std::string(te) + "\r\n\r\n",
                 HttpMessageError::unsupported_transfer_coding);
  expect_error(kPost + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
               HttpMessageError::unsupported_transfer_coding);
  EXPECT_EQ(http_status_of(HttpMessageError::unsupported_transfer_coding), 501);
}

TEST(HttpRequestReader, MalformedTransferEncoding) {
  for (std::string_view te : {"", ",", " , ", "\"chunked\"", "chunked\"", "ch@nked, chunked"})
    expect_error(kPost + "Transfer-Encoding: " + std::string(te) + "\r\n\r\n",
                 HttpMessageError::bad_transfer_encoding);
}

TEST(HttpRequestReader, TransferEncodingInHttp10IsRefused) {
  expect_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               HttpMessageError::transfer_encoding_in_http10);
  expect_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
               HttpMessageError::transfer_encoding_in_http10);
}

TEST(HttpRequestReader, ObfuscatedFramingHeadersAreRefusedByTheHeadParser) {
  // The classic disguises of Transfer-Encoding, which a lenient proxy might read as chunked.
  expect_trace(kPost + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
               {"error space_before_colon"});
  expect_trace(kPost + "Transfer-Encoding: \x0b" "chunked\r\n\r\n0\r\n\r\n",
               {"error bad_header_value"});
  expect_trace(kPost + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", {"error obs_fold"});
  expect_trace(kPost + "Transfer-Encoding: chunked\n\r\n0\r\n\r\n", {"error bare_lf"});
  expect_error(kPost + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
               HttpMessageError::unsupported_transfer_coding);
}

TEST(HttpRequestReader, ContentLengthMustBeOnePlainNumber) {
  for (std::string_view cl : {"-5", "+5", "5 5", "5\t5", "0x5", "5.0", "5e0", "five", "",
                              "5,", ",5", "5,,5", "\"5\"", "5;", "٥"})
    expect_error(kPost + "Content-Length: " + std::string(cl) + "\r\n\r\nhello",
                 HttpMessageError::bad_content_length);
  // Whitespace around a field value is not part of it (RFC 9110 §5.5).
  expect_trace(kPost + "Content-Length:    5  \r\n\r\nhello",
               {"head POST /api/publish 1.1 length=5 keep-alive", "complete hello",
                "need_more kept=0"});
  expect_trace(kPost + "Content-Length: 005\r\n\r\nhello",
               {"head POST /api/publish 1.1 length=5 keep-alive", "complete hello",
                "need_more kept=0"});
}

TEST(HttpRequestReader, DuplicateContentLengths) {
  const Trace five = {"head POST /api/publish 1.1 length=5 keep-alive", "complete hello",
                      "need_more kept=0"};
  expect_trace(kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", five);
  expect_trace(kPost + "Content-Length: 5, 5\r\n\r\nhello", five);
  expect_trace(kPost + "Content-Length: 5,005\r\n\r\nhello", five);
  expect_error(kPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
               HttpMessageError::conflicting_content_length);
  expect_error(kPost + "Content-Length: 5, 6\r\n\r\nhello!",
               HttpMessageError::conflicting_content_length);
  expect_error(kPost + "Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
               HttpMessageError::conflicting_content_length);
}

TEST(HttpRequestReader, DeclaredLengthAboveTheLimitIsRefusedBeforeAnyByteIsStored) {
  const HttpMessageLimits limits = small_body_limit(1000);
  expect_trace(kPost + "Content-Length: 1000\r\n\r\n" + std::string(1000, 'x'),
               {"head POST /api/publish 1.1 length=1000 keep-alive",
                "complete " + std::string(1000, 'x'), "need_more kept=0"},
               limits);
  // Refused on the call that completes the head, with no body byte sent or stored.
  expect_error(kPost + "Content-Length: 1001\r\n\r\n", HttpMessageError::body_too_large, limits);
  expect_error(kPost + "Content-Length: 99999999999999999999999999\r\n\r\n",
               HttpMessageError::body_too_large, limits);
  EXPECT_EQ(http_status_of(HttpMessageError::body_too_large), 413);

  HttpRequestReader reader(limits);
  auto head = std::make_unique<HttpRequestHead>();
  std::string store;
  const std::string bytes = kPost + "Content-Length: 5000000\r\n\r\nxyz";
  const HttpReadEvent ev = reader.next(bytes, *head, store);
  EXPECT_EQ(ev.kind, HttpReadEvent::Kind::error);
  EXPECT_EQ(ev.error.message, HttpMessageError::body_too_large);
  EXPECT_EQ(head->path(), "/api/publish");  // the head is there to log
  EXPECT_EQ(store.capacity(), std::string().capacity());
}

TEST(HttpRequestReader, ChunkedBodyIsLimitedByItsRunningTotal) {
  const HttpMessageLimits limits = small_body_limit(10);
  expect_trace(kChunkedHead + "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n",
               {kChunkedHeadEvent, "complete abcdefghij", "need_more kept=0"}, limits);
  // The second chunk would pass the limit: refused at its size line, before its bytes.
  expect_trace(kChunkedHead + "6\r\nabcdef\r\n5\r\n",
               {kChunkedHeadEvent, "error body_too_large"}, limits);
  expect_trace(kChunkedHead + "b\r\n", {kChunkedHeadEvent, "error body_too_large"}, limits);
}

TEST(HttpRequestReader, ShorterBodyThanDeclaredWaitsForever) {
  // The connection's request timeout ends this; the reader only ever asks for more.
  expect_trace(kPost + "Content-Length: 10\r\n\r\nhello",
               {"head POST /api/publish 1.1 length=10 keep-alive", "need_more kept=0"});
  HttpRequestReader reader;
  auto head = std::make_unique<HttpRequestHead>();
  const std::string request = kPost + "Content-Length: 10\r\n\r\n";
  ASSERT_EQ(reader.next(request, *head).kind, HttpReadEvent::Kind::head);
  EXPECT_EQ(reader.next("hello", *head).kind, HttpReadEvent::Kind::body);
  for (int i = 0; i < 3; ++i) {
    const HttpReadEvent ev = reader.next("", *head);
    EXPECT_EQ(ev.kind, HttpReadEvent::Kind::need_more);
    EXPECT_TRUE(reader.mid_message());
  }
}

TEST(HttpRequestReader, LongerBodyThanDeclaredIsTheNextRequest) {
  expect_trace(kPost + "Content-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
               {"head POST /api/publish 1.1 length=5 keep-alive", "complete hello",
                "head GET /next 1.1 none keep-alive", "complete ", "need_more kept=0"});
  // What follows is judged as a request, and garbage is refused as one.
  expect_trace(kPost + "Content-Length: 5\r\n\r\nhello world\r\n\r\n",
               {"head POST /api/publish 1.1 length=5 keep-alive", "complete hello",
                "error bad_request_line"});
  expect_trace(kPost + "Content-Length: 5\r\n\r\nhello wor",
               {"head POST /api/publish 1.1 length=5 keep-alive", "complete hello",
                "need_more kept=4"});
}

TEST(HttpRequestReader, PipelinedRequests) {
  const std::string bytes =
      "GET /a HTTP/1.1\r\nHost: hub\r\n\r\n" + kPost + "Content-Length: 3\r\n\r\none" + kPost +
      "Transfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
      // A CRLF between requests is tolerated (RFC 9112 §2.2).
      "\r\nPOST /api/publish HTTP/1.1\r\nHost: hub\r\nContent-Length: 5\r\n"
      "Connection: close\r\n\r\nthree"
      "GET /partial HTTP/1.1\r\n";
  expect_trace(bytes, {"head GET /a 1.1 none keep-alive", "complete ",
                       "head POST /api/publish 1.1 length=3 keep-alive", "complete one",
                       "head POST /api/publish 1.1 chunked keep-alive", "complete two",
                       "head POST /api/publish 1.1 length=5 close", "complete three",
                       "need_more kept=23"});
}

TEST(HttpRequestReader, KeepAlive) {
  auto framing_of = [](const std::string& head) {
    HttpRequestReader reader;
    auto parsed = std::make_unique<HttpRequestHead>();
    const HttpReadEvent ev = reader.next(head, *parsed);
    EXPECT_EQ(ev.kind, HttpReadEvent::Kind::head) << head;
    return reader.framing();
  };
  EXPECT_TRUE(framing_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
  EXPECT_TRUE(framing_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(framing_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(framing_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      framing_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  EXPECT_FALSE(framing_of(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(framing_of("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_FALSE(framing_of("GET / HTTP/1.0\r\nConnection: close\r\n\r\n").keep_alive);
  const HttpRequestFraming http10 = framing_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(http10.keep_alive);
  EXPECT_EQ(http10.version_minor, 0);
  EXPECT_FALSE(framing_of("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  EXPECT_TRUE(framing_of("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").head_method);
  EXPECT_FALSE(framing_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n").head_method);
}

TEST(HttpRequestReader, ExpectContinue) {
  expect_trace(kPost + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
               {"head POST /api/publish 1.1 length=2 keep-alive expect-100", "complete hi",
                "need_more kept=0"});
  expect_trace(kPost + "Expect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               {"head POST /api/publish 1.1 chunked keep-alive expect-100", "complete ",
                "need_more kept=0"});
  // Without a body there is nothing to wait for.
  expect_trace(kPost + "Expect: 100-continue\r\n\r\n",
               {"head POST /api/publish 1.1 none keep-alive", "complete ",
                "need_more kept=0"});
  // HTTP/1.0 expectations are ignored (RFC 9110 §10.1.1).
  expect_trace("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
               {"head POST / 1.0 length=2 close", "complete hi", "need_more kept=0"});
  // 413 and 417 come at once, so the client never sends the body.
  expect_error(kPost + "Expect: 100-continue\r\nContent-Length: 2000000\r\n\r\n",
               HttpMessageError::body_too_large);
  for (std::string_view expect : {"200-ok", "100-continue, x", "100-continue;a=b"})
    expect_error(kPost + "Expect: " + std::string(expect) + "\r\nContent-Length: 2\r\n\r\nhi",
                 HttpMessageError::unsupported_expectation);
  EXPECT_EQ(http_status_of(HttpMessageError::unsupported_expectation), 417);
}

TEST(HttpRequestReader, HostIsRequiredOnceInHttp11) {
  expect_error("GET / HTTP/1.1\r\n\r\n", HttpMessageError::missing_host);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HttpMessageError::duplicate_host);
  expect_error("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", HttpMessageError::duplicate_host);
  expect_trace("GET / HTTP/1.0\r\n\r\n",
               {"head GET / 1.0 none close", "complete ", "need_more kept=0"});
}

TEST(HttpRequestReader, HeadErrorsAreReported) {
  expect_trace("GET / HTTP/1.1\nHost: a\r\n\r\n", {"error bare_lf"});
  HttpMessageLimits limits;
  limits.head.max_head_bytes = 64;
  expect_trace("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(60, 'x') + "\r\n\r\n",
               {"error head_too_large"}, limits);
  // A partial head is kept by the caller, never more than the head limit.
  expect_trace("GET / HTTP/1.1\r\nHost: a\r\n", {"need_more kept=25"}, limits);
}

TEST(HttpRequestReader, StreamingDeliversBodyBytesAsTheyArrive) {
  HttpRequestReader reader;
  auto head = std::make_unique<HttpRequestHead>();
  const std::string request = kPost + "Content-Length: 11\r\n\r\nhello";
  HttpReadEvent ev = reader.next(request, *head);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::head);
  const std::string_view rest = std::string_view(request).substr(ev.consumed);
  ev = reader.next(rest, *head);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::body);
  EXPECT_EQ(ev.body, "hello");
  EXPECT_EQ(ev.body.data(), rest.data());  // in place, not copied
  EXPECT_EQ(ev.consumed, 5u);
  EXPECT_EQ(reader.next("", *head).kind, HttpReadEvent::Kind::need_more);
  ev = reader.next(" world", *head);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::body);
  EXPECT_EQ(ev.body, " world");
  EXPECT_EQ(reader.next("", *head).kind, HttpReadEvent::Kind::complete);
  EXPECT_FALSE(reader.mid_message());
}

TEST(HttpRequestReader, CollectingLeavesAWholeBodyInPlace) {
  HttpRequestReader reader;
  auto head = std::make_unique<HttpRequestHead>();
  std::string store;
  const std::string request = kPost + "Content-Length: 5\r\n\r\nhello" + kPost +
                              "Transfer-Encoding: chunked\r\n\r\n5\r\nworld\r\n0\r\n\r\n";
  std::string_view input = request;
  HttpReadEvent ev = reader.next(input, *head, store);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::head);
  input.remove_prefix(ev.consumed);
  ev = reader.next(input, *head, store);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::complete);
  EXPECT_EQ(ev.body, "hello");
  EXPECT_EQ(ev.body.data(), input.data());
  EXPECT_TRUE(store.empty());
  input.remove_prefix(ev.consumed);
  ev = reader.next(input, *head, store);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::head);
  input.remove_prefix(ev.consumed);
  ev = reader.next(input, *head, store);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::complete);
  EXPECT_EQ(ev.body, "world");  // one chunk, whole: in place too
  EXPECT_TRUE(store.empty());
  EXPECT_EQ(ev.consumed, input.size());
}

TEST(HttpRequestReader, CollectingGrowsByWhatArrivedNotByWhatWasDeclared) {
  HttpRequestReader reader(small_body_limit(8u << 20));
  auto head = std::make_unique<HttpRequestHead>();
  std::string store;
  const std::string request = kPost + "Content-Length: 5000000\r\n\r\n";
  ASSERT_EQ(reader.next(request, *head, store).kind, HttpReadEvent::Kind::head);
  const HttpReadEvent ev = reader.next("0123456789", *head, store);
  EXPECT_EQ(ev.kind, HttpReadEvent::Kind::need_more);
  EXPECT_EQ(ev.consumed, 10u);
  EXPECT_EQ(store, "0123456789");
  EXPECT_LT(store.capacity(), 1024u);
  // The store is cleared, capacity kept, at the next head.
  const HttpReadEvent done = reader.next(std::string(4999990, 'x'), *head, store);
  ASSERT_EQ(done.kind, HttpReadEvent::Kind::complete);
  EXPECT_EQ(done.body.size(), 5000000u);
  EXPECT_EQ(done.body.data(), store.data());
  ASSERT_EQ(reader.next("GET / HTTP/1.1\r\nHost: a\r\n\r\n", *head, store).kind,
            HttpReadEvent::Kind::head);
  EXPECT_TRUE(store.empty());
}

TEST(HttpRequestReader, AfterAnErrorTheReaderStaysFailed) {
  HttpRequestReader reader;
  auto head = std::make_unique<HttpRequestHead>();
  const std::string bad = kPost + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab";
  const HttpReadEvent first = reader.next(bad, *head);
  ASSERT_EQ(first.kind, HttpReadEvent::Kind::error);
  EXPECT_EQ(first.error.message, HttpMessageError::conflicting_content_length);
  EXPECT_EQ(first.error.status(), 400);
  EXPECT_EQ(first.error.name(), "conflicting_content_length");
  const HttpReadEvent again = reader.next("GET / HTTP/1.1\r\nHost: a\r\n\r\n", *head);
  EXPECT_EQ(again.kind, HttpReadEvent::Kind::error);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(again.error, first.error);
  EXPECT_EQ(reader.error(), first.error);
}

TEST(HttpRequestReader, MidMessage) {
  HttpRequestReader reader;
  auto head = std::make_unique<HttpRequestHead>();
  EXPECT_FALSE(reader.mid_message());
  EXPECT_EQ(reader.next("", *head).kind, HttpReadEvent::Kind::need_more);
  EXPECT_FALSE(reader.mid_message());
  EXPECT_EQ(reader.next("PO", *head).kind, HttpReadEvent::Kind::need_more);
  EXPECT_TRUE(reader.mid_message());
  const std::string request = kPost + "Content-Length: 1\r\n\r\n";
  ASSERT_EQ(reader.next(request, *head).kind, HttpReadEvent::Kind::head);
  EXPECT_TRUE(reader.mid_message());
  ASSERT_EQ(reader.next("x", *head).kind, HttpReadEvent::Kind::body);
  ASSERT_EQ(reader.next("", *head).kind, HttpReadEvent::Kind::complete);
  EXPECT_FALSE(reader.mid_message());
}

TEST(HttpMessageError, EveryErrorHasANameStatusAndSentence) {
  for (int i = 1; i <= int(HttpMessageError::incomplete_message); ++i) {
    const auto error = HttpMessageError(i);
    EXPECT_NE(http_error_name(error), "unknown") << i;
    EXPECT_GE(http_status_of(error), 400) << http_error_name(error);
    EXPECT_FALSE(http_error_sentence(error).empty()) << http_error_name(error);
  }
  const HttpReadError head_error{HttpHeadError::too_many_headers, {}};
  EXPECT_EQ(head_error.status(), 431);
  EXPECT_EQ(head_error.name(), "too_many_headers");
  EXPECT_FALSE(HttpReadError{}.any());
}

}  // namespace
}  // namespace wshub::proto
