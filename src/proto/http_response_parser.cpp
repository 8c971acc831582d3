#include "proto/http_response_parser.h"

#include <algorithm>
#include <cstring>
#include <span>

namespace wshub::proto {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). A missing SP
// after the code is accepted too: the reason carries no meaning for a client.
HttpReadError parse_status_line(std::string_view line, HttpResponseHead& out) {
  if (line.size() < 12 || line[8] != ' ') return {{}, HttpMessageError::bad_status_line};
  const std::string_view version = line.substr(0, 8);
  if (version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7]))
    return {HttpHeadError::bad_version, {}};
  out.version_major = uint8_t(version[5] - '0');
  out.version_minor = uint8_t(version[7] - '0');
  if (out.version_major != 1) return {HttpHeadError::unsupported_version, {}};
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' '))
    return {{}, HttpMessageError::bad_status_code};
  out.status = uint16_t((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  if (out.status < 100 || out.status > 599) return {{}, HttpMessageError::bad_status_code};
  out.reason = line.size() > 12 ? line.substr(13) : std::string_view();
  for (char c : out.reason)
    if (c != '\t' && (uint8_t(c) < 0x20 || uint8_t(c) == 0x7F))
      return {{}, HttpMessageError::bad_status_line};
  return {};
}

}  // namespace

const HttpHeader* HttpResponseHead::find(std::string_view name) const {
  for (uint32_t i = 0; i < header_count; ++i)
    if (equals_ignore_case(headers[i].name, name)) return &headers[i];
  return nullptr;
}

uint32_t HttpResponseHead::count(std::string_view name) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < header_count; ++i) n += equals_ignore_case(headers[i].name, name);
  return n;
}

HttpReadError parse_complete_response_head(std::string_view head, const HttpLimits& limits,
                                           HttpResponseHead& out) {
  out.header_count = 0;
  if (head.size() > std::min<uint32_t>(limits.max_head_bytes, 65535))
    return {HttpHeadError::head_too_large, {}};
  out.head_size = uint32_t(head.size());
  const uint32_t max_headers = std::min<uint32_t>(limits.max_headers, kMaxHeaders);
  bool status_line_done = false;
  size_t pos = 0;
  while (pos < head.size()) {
    const size_t lf = head.find('\n', pos);
    if (lf == std::string_view::npos || lf == pos || head[lf - 1] != '\r')
      return {HttpHeadError::bare_lf, {}};
    const std::string_view line = head.substr(pos, lf - 1 - pos);
    pos = lf + 1;
    if (line.find('\r') != std::string_view::npos) return {HttpHeadError::bare_cr, {}};
    if (!status_line_done) {
      if (auto e = parse_status_line(line, out); e.any()) return e;
      status_line_done = true;
    } else if (line.empty()) {
      return pos == head.size() ? HttpReadError{}
                                : HttpReadError{{}, HttpMessageError::bad_status_line};
    } else if (auto e = parse_header_line(line, max_headers, out.headers, out.header_count);
               e != HttpHeadError::none) {
      return {e, {}};
    }
  }
  return {{}, HttpMessageError::bad_status_line};
}

HttpResponseParser::HttpResponseParser(const HttpMessageLimits& limits) : limits_(limits) {
  limits_.head.max_head_bytes = std::min<uint32_t>(limits_.head.max_head_bytes, 65535);
  limits_.head.max_headers = std::min<uint32_t>(limits_.head.max_headers, kMaxHeaders);
}

HttpReadEvent HttpResponseParser::next(std::string_view input, HttpResponseHead& head) {
  return read(input, head, nullptr);
}

HttpReadEvent HttpResponseParser::next(std::string_view input, HttpResponseHead& head,
                                       std::string& body_store) {
  return read(input, head, &body_store);
}

HttpReadEvent HttpResponseParser::fail(HttpReadError error, size_t consumed) {
  state_ = State::failed;
  error_ = error;
  return {HttpReadEvent::Kind::error, consumed, {}, error};
}

// Finds the blank line ending the head the way HttpHeadParser does: only new bytes are
// searched, only the first max_head_bytes can belong to the head, and every line ends in CRLF.
HttpReadEvent HttpResponseParser::read_head(std::string_view input, HttpResponseHead& head,
                                            std::string* store) {
  const size_t limit = std::min<size_t>(input.size(), limits_.head.max_head_bytes);
  size_t head_size = 0;
  while (scanned_ < limit) {
    const void* lf = std::memchr(input.data() + scanned_, '\n', limit - scanned_);
    if (!lf) {
      scanned_ = uint16_t(limit);
      break;
    }
    const size_t lf_at = size_t(static_cast<const char*>(lf) - input.data());
    if (lf_at == line_start_ || input[lf_at - 1] != '\r')
      return fail({HttpHeadError::bare_lf, {}}, 0);
    const bool blank = lf_at == size_t(line_start_) + 1;
    scanned_ = line_start_ = uint16_t(lf_at + 1);
    if (blank) {
      head_size = scanned_;
      break;
    }
  }
  if (head_size == 0) {
    if (input.size() >= limits_.head.max_head_bytes)
      return fail({HttpHeadError::head_too_large, {}}, 0);
    return {};
  }
  scanned_ = line_start_ = 0;
  if (auto e = parse_complete_response_head(input.substr(0, head_size), limits_.head, head);
      e.any())
    return fail(e, 0);
  if (auto e = frame_response(head.version_minor, head.status,
                              std::span<const HttpHeader>(head.headers, head.header_count),
                              request_was_head_, limits_.body.max_body_bytes, framing_);
      e != HttpMessageError::none)
    return fail({{}, e}, head_size);
  body_.start(framing_.body, framing_.content_length);
  if (store) store->clear();
  state_ = State::body;
  return {HttpReadEvent::Kind::head, head_size, {}, {}};
}

HttpReadEvent HttpResponseParser::read(std::string_view input, HttpResponseHead& head,
                                       std::string* store) {
  switch (state_) {
    case State::failed: return {HttpReadEvent::Kind::error, 0, {}, error_};
    case State::head: return read_head(input, head, store);
    case State::body: break;
  }
  if (store) {
    const HttpCollectResult r = collect_body(body_, input, limits_.body, *store);
    switch (r.kind) {
      case HttpBodyStep::Kind::done:
        state_ = State::head;
        return {HttpReadEvent::Kind::complete, r.consumed, r.body, {}};
      case HttpBodyStep::Kind::error: return fail({{}, r.error}, r.consumed);
      default: return {HttpReadEvent::Kind::need_more, r.consumed, {}, {}};
    }
  }
  const HttpBodyStep step = body_.next(input, limits_.body);
  switch (step.kind) {
    case HttpBodyStep::Kind::data: return {HttpReadEvent::Kind::body, step.consumed, step.data, {}};
    case HttpBodyStep::Kind::done:
      state_ = State::head;
      return {HttpReadEvent::Kind::complete, step.consumed, {}, {}};
    case HttpBodyStep::Kind::error: return fail({{}, step.error}, step.consumed);
    case HttpBodyStep::Kind::need_more: break;
  }
  return {HttpReadEvent::Kind::need_more, step.consumed, {}, {}};
}

HttpReadEvent HttpResponseParser::finish(std::string* body_store) {
  switch (state_) {
    case State::failed: return {HttpReadEvent::Kind::error, 0, {}, error_};
    case State::head:
      if (scanned_ != 0) return fail({{}, HttpMessageError::incomplete_message}, 0);
      return {};
    case State::body: break;
  }
  const HttpBodyStep step = body_.finish();
  if (step.kind == HttpBodyStep::Kind::error) return fail({{}, step.error}, 0);
  state_ = State::head;
  HttpReadEvent complete{HttpReadEvent::Kind::complete, 0, {}, {}};
  if (body_store) complete.body = *body_store;
  return complete;
}

}  // namespace wshub::proto
