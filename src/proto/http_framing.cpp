#include "proto/http_framing.h"

#include "proto/token_list.h"

namespace wshub::proto {

namespace {

std::string_view trim_whitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename Visit>
void for_each_named(std::span<const HttpHeader> headers, std::string_view name, Visit&& visit) {
  for (const HttpHeader& h : headers)
    if (equals_ignore_case(h.name, name)) visit(h.value);
}

bool lists_token(std::span<const HttpHeader> headers, std::string_view name,
                 std::string_view token) {
  bool found = false;
  for_each_named(headers, name, [&](std::string_view value) {
    found = found || any_list_element(value, [&](std::string_view element) {
              return equals_ignore_case(element, token);
            });
  });
  return found;
}

// Every Content-Length value, including the elements of a list such as "5, 5" (RFC 9110 §8.6
// lets a recipient accept identical repeats), must be 1*DIGIT, and all must be equal. Empty
// elements are refused rather than skipped: the fewer readings a value has, the fewer ways a
// proxy in front can read it differently. A value beyond 64 bits saturates, which any body
// limit refuses with 413.
struct ContentLength {
  bool present = false;
  uint64_t value = 0;
  HttpMessageError error = HttpMessageError::none;
};

ContentLength parse_content_length(std::span<const HttpHeader> headers) {
  ContentLength out;
  for_each_named(headers, "Content-Length", [&](std::string_view value) {
    for (;;) {
      const size_t comma = value.find(',');
      const std::string_view element = trim_whitespace(value.substr(0, comma));
      uint64_t n = 0;
      bool digits = !element.empty();
      for (char c : element) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        const uint64_t d = uint64_t(c - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
      }
      if (!digits) {
        if (out.error == HttpMessageError::none) out.error = HttpMessageError::bad_content_length;
      } else if (out.present && n != out.value) {
        if (out.error == HttpMessageError::none)
          out.error = HttpMessageError::conflicting_content_length;
      }
      out.present = true;
      out.value = n;
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  });
  return out;
}

// Transfer-Encoding across every such header (they form one list, RFC 9110 §5.3).
struct TransferCodings {
  bool present = false;
  bool chunked = false;  // chunked is the final coding and appears once
  HttpMessageError error = HttpMessageError::none;
};

TransferCodings parse_transfer_codings(std::span<const HttpHeader> headers) {
  TransferCodings out;
  uint32_t chunked_count = 0, codings = 0;
  bool last_is_chunked = false, other = false, malformed = false;
  for_each_named(headers, "Transfer-Encoding", [&](std::string_view value) {
    out.present = true;
    any_list_element(value, [&](std::string_view element) {
      ++codings;
      last_is_chunked = equals_ignore_case(element, "chunked");
      if (last_is_chunked) {
        ++chunked_count;
        return false;
      }
      // A coding is a token, possibly with parameters; anything else is not a coding at all.
      const std::string_view name = trim_whitespace(element.substr(0, element.find(';')));
      if (is_http_token(name))
        other = true;
      else
        malformed = true;
      return false;
    });
  });
  if (!out.present) return out;
  if (malformed || codings == 0)
    out.error = HttpMessageError::bad_transfer_encoding;
  else if (chunked_count > 1 || (chunked_count == 1 && !last_is_chunked))
    out.error = HttpMessageError::chunked_not_final;
  else if (other)
    out.error = HttpMessageError::unsupported_transfer_coding;
  else
    out.chunked = true;
  return out;
}

// Framing shared by requests and responses once the status-specific cases are out of the way.
// `declared` says whether Content-Length or Transfer-Encoding was present at all.
HttpMessageError frame_body(uint8_t version_minor, std::span<const HttpHeader> headers,
                            uint64_t max_body_bytes, HttpBodyKind& body, uint64_t& length,
                            bool& declared) {
  const TransferCodings codings = parse_transfer_codings(headers);
  const ContentLength content_length = parse_content_length(headers);
  declared = codings.present || content_length.present;
  if (codings.present) {
    if (version_minor == 0) return HttpMessageError::transfer_encoding_in_http10;
    if (content_length.present) return HttpMessageError::content_length_with_transfer_encoding;
    if (codings.error != HttpMessageError::none) return codings.error;
    body = HttpBodyKind::chunked;
    return HttpMessageError::none;
  }
  if (!content_length.present) return HttpMessageError::none;
  if (content_length.error != HttpMessageError::none) return content_length.error;
  if (content_length.value > max_body_bytes) return HttpMessageError::body_too_large;
  length = content_length.value;
  body = length == 0 ? HttpBodyKind::none : HttpBodyKind::length;
  return HttpMessageError::none;
}

}  // namespace

bool connection_persists(uint8_t version_minor, std::span<const HttpHeader> headers) {
  if (lists_token(headers, "Connection", "close")) return false;
  if (version_minor >= 1) return true;
  return lists_token(headers, "Connection", "keep-alive");
}

HttpMessageError frame_request(const HttpRequestHead& head, uint64_t max_body_bytes,
                               HttpRequestFraming& out) {
  out = {};
  const std::span<const HttpHeader> headers(head.headers, head.header_count);
  out.version_minor = head.version_minor;
  out.head_method = head.method == "HEAD";
  out.keep_alive = connection_persists(head.version_minor, headers);
  bool declared = false;
  if (auto e = frame_body(head.version_minor, headers, max_body_bytes, out.body, out.content_length,
                          declared);
      e != HttpMessageError::none)
    return e;

  const uint32_t hosts = head.count("Host");
  if (hosts > 1) return HttpMessageError::duplicate_host;
  if (hosts == 0 && head.version_minor >= 1) return HttpMessageError::missing_host;

  if (head.version_minor >= 1) {
    bool other = false, continue_asked = false;
    for_each_named(headers, "Expect", [&](std::string_view value) {
      any_list_element(value, [&](std::string_view element) {
        if (equals_ignore_case(element, "100-continue"))
          continue_asked = true;
        else
          other = true;
        return false;
      });
    });
    if (other) return HttpMessageError::unsupported_expectation;
    out.expect_continue = continue_asked && out.body != HttpBodyKind::none;
  }
  return HttpMessageError::none;
}

HttpMessageError frame_response(uint8_t version_minor, uint16_t status,
                                std::span<const HttpHeader> headers, bool request_was_head,
                                uint64_t max_body_bytes, HttpResponseFraming& out) {
  out = {};
  out.keep_alive = connection_persists(version_minor, headers);
  if (request_was_head || status < 200 || status == 204 || status == 304)
    return HttpMessageError::none;
  bool declared = false;
  if (auto e = frame_body(version_minor, headers, max_body_bytes, out.body, out.content_length,
                          declared);
      e != HttpMessageError::none)
    return e;
  if (!declared) {
    out.body = HttpBodyKind::until_close;
    out.keep_alive = false;
  }
  return HttpMessageError::none;
}

}  // namespace wshub::proto
