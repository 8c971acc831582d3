#include "conformance.h"

namespace wshub::test {

void ConformanceTest::start_server(std::string config_toml) {
  ServerOptions options;
  options.config_toml = std::move(config_toml);
  options.extra_args = server_args_;
  server_ = std::make_unique<ServerProcess>(std::move(options));
}

void ConformanceTest::SetUp() {
  ASSERT_NE(server_, nullptr) << "the suite's server did not start";
  ASSERT_TRUE(server_->running()) << "the server is gone:\n" << server_->log();
}

void ConformanceTest::TearDown() {
  if (server_) {
    EXPECT_TRUE(server_->running()) << "the server died during this test:\n" << server_->log();
  }
}

std::unique_ptr<TestClient> ConformanceTest::connect(std::string_view path) {
  auto client = std::make_unique<TestClient>(server_->port());
  client->open(path);
  return client;
}

std::string utf8_text(size_t size) {
  static constexpr std::string_view kPieces[] = {
      "a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E", " ", "\xE4\xBD\xA0", "\xCE\xBA", "Z"};
  std::string out;
  out.reserve(size);
  for (size_t i = 0; out.size() < size; ++i) {
    std::string_view piece = kPieces[i % std::size(kPieces)];
    out.append(out.size() + piece.size() <= size ? piece : std::string_view("x"));
  }
  return out;
}

std::string binary_data(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = char(uint8_t(i * 131 + (i >> 8)));
  return out;
}

namespace {

// For a mismatch in a payload of megabytes: where it starts, not the payload.
std::string first_difference(std::string_view got, std::string_view expected) {
  size_t at = 0;
  while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
  return "payload of " + std::to_string(got.size()) + " bytes, expected " +
         std::to_string(expected.size()) + "; first difference at byte " + std::to_string(at);
}

}  // namespace

::testing::AssertionResult receives_message(TestClient& client, proto::Opcode opcode,
                                            std::string_view expected, milliseconds wait) {
  const Incoming in = client.next(wait);
  const char* want = opcode == proto::Opcode::text ? "text" : "binary";
  if (in.kind != Incoming::Kind::message || in.opcode != opcode)
    return ::testing::AssertionFailure()
           << "expected a " << want << " message of " << expected.size() << " bytes, got " << in;
  if (in.payload != expected)
    return ::testing::AssertionFailure()
           << "the " << want << " message differs: " << first_difference(in.payload, expected);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult receives_text(TestClient& client, std::string_view expected) {
  return receives_message(client, proto::Opcode::text, expected);
}

::testing::AssertionResult receives_binary(TestClient& client, std::string_view expected) {
  return receives_message(client, proto::Opcode::binary, expected);
}

::testing::AssertionResult receives_pong(TestClient& client, std::string_view expected) {
  const Incoming in = client.next();
  if (in.kind != Incoming::Kind::pong || in.payload != expected)
    return ::testing::AssertionFailure()
           << "expected a pong of " << expected.size() << " bytes, got " << in;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult closes_with(TestClient& client, uint16_t code) {
  const Incoming close = client.next();
  if (close.kind != Incoming::Kind::close || close.close_code != code)
    return ::testing::AssertionFailure() << "expected close " << code << ", got " << close;
  const Incoming end = client.next();
  if (end.kind != Incoming::Kind::eof)
    return ::testing::AssertionFailure()
           << "after its close " << code << " the server should close TCP (eof); got " << end;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult server_closes_tcp(TestClient& client) {
  const Incoming end = client.next();
  if (end.kind != Incoming::Kind::eof)
    return ::testing::AssertionFailure() << "expected the server to close TCP (eof), got " << end;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult closes_cleanly(TestClient& client) {
  if (!client.send_close(1000))
    return ::testing::AssertionFailure() << "sending close 1000 failed: " << client.errno_text();
  return closes_with(client, 1000);
}

}  // namespace wshub::test
