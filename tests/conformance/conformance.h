// What every conformance test file shares: a fixture that runs one real wshub per test suite
// and hands out connected clients, payload makers, and assertions that name what the server
// did instead of what was expected. The Autobahn case each test mirrors is in its comment.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <thread>

#include "support/server_process.h"
#include "support/test_client.h"

namespace wshub::test {

// What the reader reports for a close frame that carried no payload at all.
inline constexpr uint16_t kNoCloseCode = 1005;

// The defaults, except that the server sends no keep-alive pings of its own: every event a
// test sees answers something it sent, however long a sanitizer build takes.
inline constexpr const char* kQuietConfig = "[limits]\nping_interval_ms = 0\n";

class ConformanceTest : public ::testing::Test {
 public:
  // A suite that needs a config defines its own SetUpTestSuite calling start_server(toml).
  static void SetUpTestSuite() { start_server(kQuietConfig); }
  static void TearDownTestSuite() { server_.reset(); }
  // Passed to every server started from now on (after --listen and --threads).
  static void add_server_arg(std::string arg) { server_args_.push_back(std::move(arg)); }

 protected:
  static void start_server(std::string config_toml);
  void SetUp() override;
  // Fails the test that made the server crash, not a later one.
  void TearDown() override;

  // A client that completed the opening handshake on `path`.
  std::unique_ptr<TestClient> connect(std::string_view path = "/echo");
  static ServerProcess& server() { return *server_; }

 private:
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::vector<std::string> server_args_;
};

// Valid UTF-8 of exactly `size` bytes mixing 1- to 4-byte code points, so that fragment and
// read boundaries fall inside code points.
std::string utf8_text(size_t size);
// `size` bytes covering every byte value, in an order that repeats only every 64 KiB.
std::string binary_data(size_t size);

// The next event is a text (binary) message with exactly `expected` as payload.
::testing::AssertionResult receives_text(TestClient& client, std::string_view expected);
::testing::AssertionResult receives_binary(TestClient& client, std::string_view expected);
::testing::AssertionResult receives_message(TestClient& client, proto::Opcode opcode,
                                            std::string_view expected,
                                            milliseconds wait = kDefaultWait);
// The next event is a pong carrying exactly `expected`.
::testing::AssertionResult receives_pong(TestClient& client, std::string_view expected);
// The next event is a close frame with `code` (kNoCloseCode: an empty close frame), and then
// the server closes TCP: the read after it reports EOF, within the usual wait.
::testing::AssertionResult closes_with(TestClient& client, uint16_t code);
// The next event is EOF: the server closed TCP (after a close frame the caller already read).
::testing::AssertionResult server_closes_tcp(TestClient& client);
// Sends close 1000 and expects the close handshake to complete: the connection was healthy.
::testing::AssertionResult closes_cleanly(TestClient& client);

}  // namespace wshub::test
