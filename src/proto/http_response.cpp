#include "proto/http_response.h"

namespace wshub::proto {

std::string_view http_reason_phrase(uint16_t status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
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

}  // namespace wshub::proto
