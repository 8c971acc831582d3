#include "proto/http_response.h"

#include <cstring>

namespace wshub::proto {

namespace {

size_t decimal_digits(size_t n) {
  size_t digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  return digits;
}

char* put(char* out, std::string_view text) {
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

char* put_decimal(char* out, size_t n, size_t digits) {
  for (size_t i = digits; i-- > 0; n /= 10) out[i] = char('0' + n % 10);
  return out + digits;
}

// RFC 9110 §15: these statuses never carry content, so they carry no Content-Length either.
bool carries_content(uint16_t status) { return status >= 200 && status != 204 && status != 304; }

constexpr std::string_view kContentType = "Content-Type: ";
constexpr std::string_view kContentLength = "Content-Length: ";
constexpr std::string_view kClose = "Connection: close\r\n";
constexpr std::string_view kKeepAlive = "Connection: keep-alive\r\n";

}  // namespace

std::string_view http_reason_phrase(uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string make_http_response(uint16_t status, std::string_view content_type,
                               std::string_view body, std::string_view extra_headers,
                               bool headers_only) {
  std::string out;
  out.reserve(160 + extra_headers.size() + body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += http_reason_phrase(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nConnection: close\r\nCache-Control: no-store\r\n";
  out += extra_headers;
  out += "\r\n";
  if (!headers_only) out += body;
  return out;
}

HttpResponseFields& HttpResponseFields::answering(const HttpRequestFraming& request) {
  close = !request.keep_alive;
  http10_keep_alive = request.keep_alive && request.version_minor == 0;
  headers_only = request.head_method;
  return *this;
}

size_t http_response_head_size(const HttpResponseFields& fields, size_t body_size) {
  size_t n = 13 + http_reason_phrase(fields.status).size() + 2;  // "HTTP/1.1 200 " reason CRLF
  if (!fields.content_type.empty()) n += kContentType.size() + fields.content_type.size() + 2;
  if (carries_content(fields.status)) n += kContentLength.size() + decimal_digits(body_size) + 2;
  if (fields.close)
    n += kClose.size();
  else if (fields.http10_keep_alive)
    n += kKeepAlive.size();
  return n + fields.extra_headers.size() + 2;
}

size_t write_http_response_head(char* out, const HttpResponseFields& fields, size_t body_size) {
  char* p = put(out, "HTTP/1.1 ");
  p = put_decimal(p, fields.status % 1000, 3);
  *p++ = ' ';
  p = put(p, http_reason_phrase(fields.status));
  p = put(p, "\r\n");
  if (!fields.content_type.empty()) {
    p = put(p, kContentType);
    p = put(p, fields.content_type);
    p = put(p, "\r\n");
  }
  if (carries_content(fields.status)) {
    p = put(p, kContentLength);
    p = put_decimal(p, body_size, decimal_digits(body_size));
    p = put(p, "\r\n");
  }
  if (fields.close)
    p = put(p, kClose);
  else if (fields.http10_keep_alive)
    p = put(p, kKeepAlive);
  p = put(p, fields.extra_headers);
  p = put(p, "\r\n");
  return size_t(p - out);
}

void append_http_response(std::string& out, const HttpResponseFields& fields,
                          std::string_view body) {
  const bool with_body = !fields.headers_only && carries_content(fields.status);
  const size_t head_size = http_response_head_size(fields, body.size());
  const size_t start = out.size();
  out.resize(start + head_size + (with_body ? body.size() : 0));
  write_http_response_head(out.data() + start, fields, body.size());
  if (with_body && !body.empty())
    std::memcpy(out.data() + start + head_size, body.data(), body.size());
}

}  // namespace wshub::proto
