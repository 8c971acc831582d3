// Close-code rules (RFC 6455 §7.4) and the small HTTP responses the server writes itself.
#include <gtest/gtest.h>

#include "proto/close_code.h"
#include "proto/http_response.h"

namespace wshub::proto {
namespace {

TEST(CloseCode, WireValidityOverTheWholeRange) {
  for (uint32_t code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    ASSERT_EQ(is_valid_wire_close_code(uint16_t(code)), expected) << code;
  }
}

TEST(CloseCode, Names) {
  EXPECT_EQ(close_code_name(1000), "normal");
  EXPECT_EQ(close_code_name(1005), "no status");
  EXPECT_EQ(close_code_name(1009), "message too big");
  EXPECT_EQ(close_code_name(3000), "application");
  EXPECT_EQ(close_code_name(4999), "application");
  EXPECT_EQ(close_code_name(1004), "invalid");
  EXPECT_EQ(close_code_name(5000), "invalid");
  EXPECT_EQ(uint16_t(CloseCode::no_status), 1005);
  EXPECT_EQ(uint16_t(CloseCode::abnormal), 1006);
}

TEST(HttpResponse, ExactBytes) {
  EXPECT_EQ(make_http_response(426, "text/plain", "use a WebSocket client\n",
                               "Sec-WebSocket-Version: 13\r\n"),
            "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
            "Connection: close\r\nCache-Control: no-store\r\nSec-WebSocket-Version: 13\r\n\r\n"
            "use a WebSocket client\n");
  EXPECT_EQ(make_http_response(404, "text/plain", ""),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
            "Connection: close\r\nCache-Control: no-store\r\n\r\n");
}

TEST(HttpResponse, ReasonPhrases) {
  EXPECT_EQ(http_reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(http_reason_phrase(400), "Bad Request");
  EXPECT_EQ(http_reason_phrase(403), "Forbidden");
  EXPECT_EQ(http_reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(http_reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(http_reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_FALSE(http_reason_phrase(599).empty());
}

}  // namespace
}  // namespace wshub::proto
