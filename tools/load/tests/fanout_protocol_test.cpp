#include "modes/fanout_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace wshub::load {
namespace {

Bytes bytes_of(std::string_view text) { return Bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size()); }

std::string text_of(Bytes bytes) { return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()); }

FanoutProtocolPlan hub_plan(uint32_t channels = 1) {
  FanoutProtocolPlan plan;
  plan.protocol = FanoutProtocol::hub;
  plan.token = "TOKEN";
  plan.channel = "bench";
  plan.channels_per_connection = channels;
  plan.size = 30;
  return plan;
}

// The stamp a message carries, read back the way fanout mode reads it.
void expect_stamp(Bytes payload, size_t at, uint64_t sequence, uint64_t sent_ns) {
  uint64_t got_sequence = 0, got_time = 0;
  ASSERT_LE(at + kStampDigits, payload.size());
  ASSERT_TRUE(read_hex(payload.data() + at, kSequenceDigits, got_sequence));
  ASSERT_TRUE(read_hex(payload.data() + at + kSequenceDigits, kTimeDigits, got_time));
  EXPECT_EQ(got_sequence, sequence);
  EXPECT_EQ(got_time, sent_ns);
}

TEST(FanoutProtocol, HubConnectSubscribesToEveryChannelInOneRequest) {
  FanoutProtocolCodec codec(hub_plan(3));
  EXPECT_EQ(codec.opening_message(),
            R"({"t":"connect","id":1,"token":"TOKEN","subs":{"bench":{},"bench.1":{},"bench.2":{}}})");
  EXPECT_FALSE(codec.ready_at_open());
}

TEST(FanoutProtocol, HubAnswersTellReadyRefusedAndHeartbeat) {
  FanoutProtocolCodec codec(hub_plan());
  EXPECT_EQ(codec.classify(bytes_of(R"({"t":"ok","id":1,"cid":"0-1","subs":{"bench":{"ep":"x","off":0}}})")).kind,
            Heard::ready);
  EXPECT_EQ(codec.classify(bytes_of(R"({"t":"ok","id":1,"subs":{"bench":{"err":{"code":103,"msg":"no"}}}})")).kind,
            Heard::refused);
  EXPECT_EQ(codec.classify(bytes_of(R"({"t":"err","id":1,"code":109,"msg":"bad token"})")).kind, Heard::refused);
  EXPECT_EQ(codec.classify(bytes_of(R"({"t":"disconnect","code":3005,"reason":"expired"})")).kind, Heard::refused);
  // The answer to a publish (id 10000000 and up) is not the connect's.
  EXPECT_EQ(codec.classify(bytes_of(R"({"t":"ok","id":10000003,"off":4,"ep":"x","dup":false})")).kind, Heard::other);
  const HeardMessage ping = codec.classify(bytes_of(R"({"t":"ping"})"));
  EXPECT_EQ(ping.kind, Heard::answer);
  EXPECT_EQ(ping.reply, R"({"t":"pong"})");
}

TEST(FanoutProtocol, HubPublicationRoundTripsItsStamp) {
  FanoutProtocolCodec codec(hub_plan());
  const std::string request = text_of(codec.websocket_publication(7, 0x1234abcd));
  EXPECT_EQ(request.rfind(R"({"t":"publish","id":10000007,"ch":"bench","data":"~)", 0), 0u) << request;
  // What the hub pushes carries the same data string; the stamp is found after its marker.
  const std::string data = request.substr(request.find("\"data\":") + 7, 32);
  const std::string push = R"({"t":"pub","ch":"bench","off":8,"data":)" + data + R"(,"ts":1796588850632})";
  const HeardMessage heard = codec.classify(bytes_of(push));
  ASSERT_EQ(heard.kind, Heard::publication);
  expect_stamp(bytes_of(push), heard.stamp_at, 7, 0x1234abcd);
  // A push whose data is cut before the whole stamp is not taken for a publication.
  EXPECT_EQ(codec.classify(bytes_of(R"({"t":"pub","ch":"bench","data":"~0000")")).kind, Heard::other);
}

TEST(FanoutProtocol, ApiBodyCarriesTheStampInData) {
  FanoutProtocolCodec codec(hub_plan());
  const std::string body(codec.api_publication(2, 99));
  EXPECT_EQ(body.rfind(R"({"channel":"bench","data":"~)", 0), 0u) << body;
  // The prefix, the 30-character data string, then `"}`.
  EXPECT_EQ(body.size(), std::string_view(R"({"channel":"bench","data":")").size() + 30 + 2);
  expect_stamp(bytes_of(body), body.find('~') + 1, 2, 99);
}

TEST(FanoutProtocol, SocketIoHandshakeHeartbeatAndEvents) {
  FanoutProtocolPlan plan;
  plan.protocol = FanoutProtocol::socketio;
  plan.size = 40;
  FanoutProtocolCodec codec(plan);
  EXPECT_TRUE(codec.opening_message().empty());
  const HeardMessage open = codec.classify(bytes_of(R"(0{"sid":"abc","pingInterval":25000})"));
  EXPECT_EQ(open.kind, Heard::answer);
  EXPECT_EQ(open.reply, "40");
  EXPECT_EQ(codec.classify(bytes_of(R"(40{"sid":"def"})")).kind, Heard::ready);
  EXPECT_EQ(codec.classify(bytes_of("2")).reply, "3");
  EXPECT_EQ(codec.classify(bytes_of(R"(44{"message":"no"})")).kind, Heard::refused);
  const Bytes event = codec.websocket_publication(5, 6);
  const HeardMessage heard = codec.classify(event);
  ASSERT_EQ(heard.kind, Heard::publication);
  expect_stamp(event, heard.stamp_at, 5, 6);
}

TEST(FanoutProtocol, RawFramesAreTheStampAndPadding) {
  FanoutProtocolPlan plan;
  plan.size = 24;
  FanoutProtocolCodec codec(plan);
  EXPECT_TRUE(codec.ready_at_open());
  const Bytes frame = codec.websocket_publication(3, 4);
  EXPECT_EQ(frame.size(), 24u);
  const HeardMessage heard = codec.classify(frame);
  EXPECT_EQ(heard.kind, Heard::publication);
  expect_stamp(frame, heard.stamp_at, 3, 4);
}

}  // namespace
}  // namespace wshub::load
