// The keep-alive response writer and HttpResponseParser: exact bytes written, status lines,
// Content-Length, chunked and read-until-close bodies, bodiless statuses, pipelined responses,
// limits and errors. Parser inputs are fed whole, byte by byte, split at every point and in
// random pieces, in the streaming and the collecting form.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_feed.h"
#include "proto/http_request_reader.h"
#include "proto/http_response.h"
#include "proto/http_response_parser.h"

namespace wshub::proto {
namespace {

using test::BodyForm;
using Trace = std::vector<std::string>;

std::string describe(const HttpResponseParser& parser, const HttpResponseHead& head) {
  const HttpResponseFraming& f = parser.framing();
  std::string s = "head " + std::to_string(head.status) + " " + std::string(head.reason) +
                  " 1." + std::to_string(head.version_minor);
  switch (f.body) {
    case HttpBodyKind::none: s += " none"; break;
    case HttpBodyKind::length: s += " length=" + std::to_string(f.content_length); break;
    case HttpBodyKind::chunked: s += " chunked"; break;
    case HttpBodyKind::until_close: s += " until_close"; break;
  }
  s += f.keep_alive ? " keep-alive" : " close";
  return s;
}

// Reads responses, then tells the parser the server closed and records what finish() says.
Trace read_responses(std::string_view bytes, std::vector<size_t> ends, BodyForm form,
                     const HttpMessageLimits& limits, std::string_view method) {
  HttpResponseParser parser(limits);
  parser.set_request_method(method);
  Trace trace = test::feed<HttpResponseParser, HttpResponseHead>(parser, bytes, std::move(ends),
                                                                 form, describe);
  if (trace.back().starts_with("error")) return trace;
  // feed() kept no body store; finish() reports on what the parser held.
  const HttpReadEvent end = parser.finish();
  switch (end.kind) {
    case HttpReadEvent::Kind::complete: trace.push_back("closed: complete"); break;
    case HttpReadEvent::Kind::error:
      trace.push_back("closed: " + std::string(end.error.name()));
      break;
    default: trace.push_back("closed: clean"); break;
  }
  return trace;
}

void expect_trace(std::string_view bytes, const Trace& expected,
                  const HttpMessageLimits& limits = {}, std::string_view method = "GET") {
  SCOPED_TRACE(testing::PrintToString(std::string(bytes)));
  for (BodyForm form : {BodyForm::streaming, BodyForm::collecting}) {
    const char* form_name = form == BodyForm::streaming ? "streaming" : "collecting";
    for (const auto& [how, ends] : test::splittings(bytes.size())) {
      const Trace got = read_responses(bytes, ends, form, limits, method);
      EXPECT_EQ(got, expected) << form_name << ", " << how;
      if (got != expected) return;
    }
  }
}

void expect_error(std::string_view bytes, std::string_view name) {
  expect_trace(bytes, {"error " + std::string(name)});
}

// --- the writer -------------------------------------------------------------------------------

std::string write(const HttpResponseFields& fields, std::string_view body) {
  std::string out;
  append_http_response(out, fields, body);
  // The head alone, written into an exact-size heap block, is the same bytes.
  const size_t head_size = http_response_head_size(fields, body.size());
  auto block = std::make_unique<char[]>(head_size);
  EXPECT_EQ(write_http_response_head(block.get(), fields, body.size()), head_size);
  EXPECT_EQ(std::string_view(block.get(), head_size), std::string_view(out).substr(0, head_size));
  return out;
}

TEST(HttpResponseWriter, KeepAliveJson) {
  HttpResponseFields fields;
  fields.content_type = "application/json";
  EXPECT_EQ(write(fields, "{\"ok\":true}"),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
            "{\"ok\":true}");
}

TEST(HttpResponseWriter, ClosingWithExtraHeaders) {
  HttpResponseFields fields;
  fields.status = 413;
  fields.content_type = "text/plain; charset=utf-8";
  fields.close = true;
  fields.extra_headers = "Retry-After: 5\r\nX-Request-Id: 7\r\n";
  EXPECT_EQ(write(fields, "too big\n"),
            "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 8\r\nConnection: close\r\nRetry-After: 5\r\nX-Request-Id: 7\r\n\r\n"
            "too big\n");
}

TEST(HttpResponseWriter, AnsweringARequestsFraming) {
  HttpRequestFraming http10;
  http10.version_minor = 0;
  http10.keep_alive = true;
  HttpResponseFields fields;
  fields.answering(http10);
  EXPECT_EQ(write(fields, ""),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");

  HttpRequestFraming head_closing;
  head_closing.head_method = true;
  head_closing.keep_alive = false;
  fields = {};
  fields.content_type = "text/plain";
  fields.answering(head_closing);
  EXPECT_EQ(write(fields, "twelve bytes"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpResponseWriter, StatusesWithoutContent) {
  HttpResponseFields fields;
  fields.status = 204;
  EXPECT_EQ(write(fields, "ignored"), "HTTP/1.1 204 No Content\r\n\r\n");
  fields.status = 100;
  EXPECT_EQ(write(fields, ""), std::string(kHttpContinue));
  fields.status = 304;
  EXPECT_EQ(write(fields, ""), "HTTP/1.1 304 Not Modified\r\n\r\n");
}

TEST(HttpResponseWriter, LengthsOfEveryWidth) {
  for (size_t size : {0u, 9u, 10u, 99u, 100u, 12345u, 1000000u}) {
    const std::string body(size, 'b');
    const std::string out = write({}, body);
    EXPECT_NE(out.find("Content-Length: " + std::to_string(size) + "\r\n"), std::string::npos);
    EXPECT_TRUE(out.ends_with("\r\n\r\n" + body));
  }
}

TEST(HttpResponseWriter, AReusedBufferDoesNotReallocate) {
  std::string out;
  HttpResponseFields fields;
  fields.content_type = "application/json";
  append_http_response(out, fields, "{\"id\":1}");
  const char* data = out.data();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    append_http_response(out, fields, "{\"id\":2}");
    EXPECT_EQ(out.data(), data);
  }
}

TEST(HttpResponseWriter, WhatItWritesParsesBack) {
  HttpResponseFields fields;
  fields.status = 202;
  fields.content_type = "application/json";
  fields.extra_headers = "X-A: 1\r\n";
  std::string bytes;
  append_http_response(bytes, fields, "{\"queued\":3}");
  fields.status = 404;
  fields.close = true;
  append_http_response(bytes, fields, "{}");
  expect_trace(bytes, {"head 202 Accepted 1.1 length=12 keep-alive", "complete {\"queued\":3}",
                       "head 404 Not Found 1.1 length=2 close", "complete {}",
                       "need_more kept=0", "closed: clean"});
}

// --- the parser -------------------------------------------------------------------------------

TEST(HttpResponseParser, ContentLengthAndChunkedBodies) {
  expect_trace("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
               {"head 200 OK 1.1 length=5 keep-alive", "complete hello", "need_more kept=0",
                "closed: clean"});
  expect_trace("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n"
               "0\r\nX-T: 1\r\n\r\n",
               {"head 200 OK 1.1 chunked keep-alive", "complete abcde", "need_more kept=0",
                "closed: clean"});
}

TEST(HttpResponseParser, BodyUntilClose) {
  expect_trace("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this, until the end",
               {"head 200 OK 1.1 until_close close", "need_more kept=0", "closed: complete"});
  // The collecting form's body is the store when the close ends it.
  HttpResponseParser parser;
  auto head = std::make_unique<HttpResponseHead>();
  std::string store;
  const std::string bytes = "HTTP/1.0 200 OK\r\n\r\nbody";
  HttpReadEvent ev = parser.next(bytes, *head, store);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::head);
  ev = parser.next(std::string_view(bytes).substr(ev.consumed), *head, store);
  EXPECT_EQ(ev.kind, HttpReadEvent::Kind::need_more);
  EXPECT_EQ(ev.consumed, 4u);
  ev = parser.finish(&store);
  ASSERT_EQ(ev.kind, HttpReadEvent::Kind::complete);
  EXPECT_EQ(ev.body, "body");
}

TEST(HttpResponseParser, BodilessResponses) {
  // 204 and 304 carry no body whatever they say; neither does any answer to HEAD.
  expect_trace("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
               "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
               {"head 204 No Content 1.1 none keep-alive", "complete ",
                "head 304 Not Modified 1.1 none keep-alive", "complete ", "need_more kept=0",
                "closed: clean"});
  expect_trace("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
               {"head 200 OK 1.1 none keep-alive", "complete ", "need_more kept=0",
                "closed: clean"},
               {}, "HEAD");
  // An interim 100 comes before the final response.
  expect_trace("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
               {"head 100 Continue 1.1 none keep-alive", "complete ",
                "head 201 Created 1.1 length=2 keep-alive", "complete ok", "need_more kept=0",
                "closed: clean"});
}

TEST(HttpResponseParser, StatusLines) {
  expect_trace("HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n",
               {"head 599  1.1 none keep-alive", "complete ", "need_more kept=0",
                "closed: clean"});
  expect_trace("HTTP/1.0 200 Fine, thanks\r\nContent-Length: 0\r\n\r\n",
               {"head 200 Fine, thanks 1.0 none close", "complete ", "need_more kept=0",
                "closed: clean"});
  for (std::string_view line : {"", "HTTP/1.1", "HTTP/1.1 20", "HTTP/1.1200 OK", "<html>",
                                "HTTP/1.1 200 O\x01K"})
    expect_error(std::string(line) + "\r\n\r\n", "bad_status_line");
  for (std::string_view line : {"HTTP/1.1 2000 OK", "HTTP/1.1 099 X", "HTTP/1.1 600 X",
                                "HTTP/1.1 2x0 OK", "HTTP/1.1 -20 OK"})
    expect_error(std::string(line) + "\r\n\r\n", "bad_status_code");
  expect_error("HTTP/2.0 200 OK\r\n\r\n", "unsupported_version");
  expect_error("HTTX/1.1 200 OK\r\n\r\n", "bad_version");
  expect_error("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare_lf");
  expect_error("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "bad_header_name");
}

TEST(HttpResponseParser, FramingErrors) {
  expect_error("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
               "content_length_with_transfer_encoding");
  expect_error("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
               "conflicting_content_length");
  expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
               "unsupported_transfer_coding");
  expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
               "chunked_not_final");
  expect_trace("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
               {"head 200 OK 1.1 chunked keep-alive", "error bad_chunk_end"});
}

TEST(HttpResponseParser, Limits) {
  HttpMessageLimits limits;
  limits.body.max_body_bytes = 4;
  expect_trace("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
               {"error body_too_large"}, limits);
  expect_trace("HTTP/1.1 200 OK\r\n\r\nhell", {"head 200 OK 1.1 until_close close",
                                               "need_more kept=0", "closed: complete"},
               limits);
  expect_trace("HTTP/1.1 200 OK\r\n\r\nhello", {"head 200 OK 1.1 until_close close",
                                                "error body_too_large"},
               limits);
  limits = {};
  limits.head.max_head_bytes = 32;
  expect_trace("HTTP/1.1 200 OK\r\nX-Long: abcdefghijklmnop\r\n\r\n", {"error head_too_large"},
               limits);
  limits = {};
  limits.head.max_headers = 1;
  expect_trace("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", {"error too_many_headers"}, limits);
}

TEST(HttpResponseParser, CloseInTheMiddleIsAnError) {
  expect_trace("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
               {"head 200 OK 1.1 length=5 keep-alive", "need_more kept=0",
                "closed: incomplete_message"});
  expect_trace("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
               {"head 200 OK 1.1 chunked keep-alive", "need_more kept=0",
                "closed: incomplete_message"});
  expect_trace("HTTP/1.1 200 OK\r\nContent-Le",
               {"need_more kept=27", "closed: incomplete_message"});
}

TEST(HttpResponseParser, PipelinedResponses) {
  expect_trace("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"
               "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1\r\nConnection: close\r\n"
               "\r\nc",
               {"head 200 OK 1.1 length=1 keep-alive", "complete a",
                "head 200 OK 1.1 chunked keep-alive", "complete b",
                "head 503 Service Unavailable 1.1 length=1 close", "complete c",
                "need_more kept=0", "closed: clean"});
}

}  // namespace
}  // namespace wshub::proto
