#include "proto/close_code.h"

namespace wshub::proto {

std::string_view close_code_name(uint16_t code) {
  switch (code) {
    case 1000: return "normal";
    case 1001: return "going away";
    case 1002: return "protocol error";
    case 1003: return "unsupported data";
    case 1005: return "no status";
    case 1006: return "abnormal closure";
    case 1007: return "invalid payload";
    case 1008: return "policy violation";
    case 1009: return "message too big";
    case 1010: return "mandatory extension";
    case 1011: return "internal error";
    case 1012: return "service restart";
    case 1013: return "try again later";
    case 1014: return "bad gateway";
    case 1015: return "TLS handshake";
    default: return code >= 3000 && code <= 4999 ? "application" : "invalid";
  }
}

}  // namespace wshub::proto
