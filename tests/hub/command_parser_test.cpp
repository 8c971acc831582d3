// CommandParser: every request type and its required fields, every CommandError and whether it
// closes the connection, batches, ids, `data` passed through byte for byte, the depth limit,
// duplicate keys (the last one wins, as JSON.parse in a browser reads them), whitespace.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/command_parser.h"

namespace wshub::hub {
namespace {

// A Command with its own copies of the views (they last only until the parser's next call).
struct Taken {
  bool error = false;
  CommandError code = CommandError::none;
  uint64_t id = 0;
  std::string detail;
  CommandType type = CommandType::ping;
  std::string channel, data, token, method, mid, client, subs, epoch;
  bool has_data = false, since = false, has_inbox = false;
  uint64_t offset = 0, upto = 0;
  uint32_t limit = 0;
};

class Recorder final : public CommandSink {
 public:
  void on_command(const Command& c) override {
    Taken t;
    t.type = c.type;
    t.id = c.id;
    t.channel = c.channel;
    t.data = c.data;
    t.has_data = c.has_data;
    t.token = c.token;
    t.method = c.method;
    t.mid = c.mid;
    t.client = c.client_json;
    t.subs = c.subs_json;
    t.since = c.since.present;
    t.epoch = c.since.epoch;
    t.offset = c.since.offset;
    t.has_inbox = c.has_inbox;
    t.upto = c.upto;
    t.limit = c.limit;
    seen.push_back(std::move(t));
  }
  void on_command_error(CommandError error, uint64_t id, std::string_view detail) override {
    Taken t;
    t.error = true;
    t.code = error;
    t.id = id;
    t.detail = detail;
    seen.push_back(std::move(t));
  }
  std::vector<Taken> seen;
};

struct Parsed {
  bool intact = false;
  std::vector<Taken> seen;
};

Parsed parse(CommandParser& parser, std::string_view frame) {
  Recorder sink;
  Parsed out;
  out.intact = parser.parse(frame, sink);
  out.seen = std::move(sink.seen);
  return out;
}

Parsed parse(std::string_view frame, CommandLimits limits = {}) {
  CommandParser parser(limits);
  return parse(parser, frame);
}

// The frame ends the connection with `error` and hands over nothing before it.
void expect_fatal(std::string_view frame, CommandError error) {
  SCOPED_TRACE(std::string(frame));
  Parsed p = parse(frame);
  EXPECT_FALSE(p.intact);
  ASSERT_EQ(p.seen.size(), 1u);
  EXPECT_TRUE(p.seen[0].error);
  EXPECT_EQ(command_error_name(p.seen[0].code), command_error_name(error));
  EXPECT_EQ(p.seen[0].id, 0u);
}

// The frame's one request is refused with `error`, answerable with `id`.
void expect_refused(std::string_view frame, CommandError error, uint64_t id) {
  SCOPED_TRACE(std::string(frame));
  Parsed p = parse(frame);
  EXPECT_TRUE(p.intact);
  ASSERT_EQ(p.seen.size(), 1u);
  EXPECT_TRUE(p.seen[0].error);
  EXPECT_EQ(command_error_name(p.seen[0].code), command_error_name(error));
  EXPECT_EQ(p.seen[0].id, id);
  EXPECT_FALSE(p.seen[0].detail.empty());
}

Taken expect_one(std::string_view frame, CommandLimits limits = {}) {
  SCOPED_TRACE(std::string(frame));
  Parsed p = parse(frame, limits);
  EXPECT_TRUE(p.intact);
  EXPECT_EQ(p.seen.size(), 1u);
  if (p.seen.empty()) return {};
  EXPECT_FALSE(p.seen[0].error) << command_error_name(p.seen[0].code) << ": " << p.seen[0].detail;
  return p.seen[0];
}

TEST(CommandParser, EveryRequestTypeWithItsFields) {
  Taken c = expect_one(R"({"t":"connect","id":1,"token":"abc","client":{"sdk":"js","version":"1.0"},)"
                       R"("subs":{"news":{"since":{"ep":"e","off":3}}},"inbox":{"ep":"i1","acked":9}})");
  EXPECT_EQ(c.type, CommandType::connect);
  EXPECT_EQ(c.id, 1u);
  EXPECT_EQ(c.token, "abc");
  EXPECT_EQ(c.client, R"({"sdk":"js","version":"1.0"})");
  EXPECT_EQ(c.subs, R"({"news":{"since":{"ep":"e","off":3}}})");
  EXPECT_TRUE(c.has_inbox);
  EXPECT_EQ(c.epoch, "i1");
  EXPECT_EQ(c.offset, 9u);

  c = expect_one(R"({"t":"subscribe","id":2,"ch":"news:a","since":{"ep":"e7","off":41}})");
  EXPECT_EQ(c.type, CommandType::subscribe);
  EXPECT_EQ(c.channel, "news:a");
  EXPECT_TRUE(c.since);
  EXPECT_EQ(c.epoch, "e7");
  EXPECT_EQ(c.offset, 41u);

  c = expect_one(R"({"t":"subscribe","id":2,"ch":"news:a"})");
  EXPECT_FALSE(c.since);

  c = expect_one(R"({"t":"unsubscribe","id":3,"ch":"x"})");
  EXPECT_EQ(c.type, CommandType::unsubscribe);
  EXPECT_EQ(c.channel, "x");

  c = expect_one(R"({"t":"publish","id":4,"ch":"x","data":{"a":1},"mid":"m-1"})");
  EXPECT_EQ(c.type, CommandType::publish);
  EXPECT_EQ(c.data, R"({"a":1})");
  EXPECT_TRUE(c.has_data);
  EXPECT_EQ(c.mid, "m-1");

  c = expect_one(R"({"t":"rpc","id":5,"m":"get_user","data":[1,2]})");
  EXPECT_EQ(c.type, CommandType::rpc);
  EXPECT_EQ(c.method, "get_user");
  EXPECT_EQ(c.data, "[1,2]");
  c = expect_one(R"({"t":"rpc","id":5,"m":"now"})");
  EXPECT_FALSE(c.has_data);

  c = expect_one(R"({"t":"ack","upto":77})");
  EXPECT_EQ(c.type, CommandType::ack);
  EXPECT_EQ(c.id, 0u);
  EXPECT_EQ(c.upto, 77u);

  c = expect_one(R"({"t":"history","id":6,"ch":"x","since":{"ep":"e","off":2},"limit":50})");
  EXPECT_EQ(c.type, CommandType::history);
  EXPECT_EQ(c.limit, 50u);
  EXPECT_EQ(c.offset, 2u);

  c = expect_one(R"({"t":"presence","id":7,"ch":"room:1"})");
  EXPECT_EQ(c.type, CommandType::presence);

  c = expect_one(R"({"t":"refresh","id":8,"token":"new"})");
  EXPECT_EQ(c.type, CommandType::refresh);
  EXPECT_EQ(c.token, "new");

  EXPECT_EQ(expect_one(R"({"t":"ping"})").type, CommandType::ping);
  EXPECT_EQ(expect_one(R"({"t":"ping","id":9})").id, 9u);
  EXPECT_EQ(expect_one(R"({"t":"pong"})").type, CommandType::pong);
}

TEST(CommandParser, ClientAndSubsAreHandedOnWithoutTheWhitespaceAfterThem) {
  Taken c = expect_one("{\"t\":\"connect\",\"id\":1,\"client\":{\"sdk\":\"js\"} \n,"
                       "\"subs\":{\"news\":{}}\t ,\"token\":\"abc\"}");
  EXPECT_EQ(c.client, R"({"sdk":"js"})");
  EXPECT_EQ(c.subs, R"({"news":{}})");
}

TEST(CommandParser, RequiredFields) {
  expect_refused(R"({"t":"subscribe","id":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"subscribe","id":1,"ch":""})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"unsubscribe","id":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"presence","id":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"history","id":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"publish","id":1,"data":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"publish","id":1,"ch":"a"})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"rpc","id":1,"data":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"rpc","id":1,"m":""})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"refresh","id":1})", CommandError::missing_field, 1);
  expect_refused(R"({"t":"refresh","id":1,"token":""})", CommandError::missing_field, 1);
  // `null` is data like any other.
  EXPECT_EQ(expect_one(R"({"t":"publish","id":1,"ch":"a","data":null})").data, "null");
  // connect's token is optional (anonymous connections, the connect webhook).
  EXPECT_EQ(expect_one(R"({"t":"connect","id":1})").token, "");
}

TEST(CommandParser, RequestsThatNeedAnAnswerNeedAnId) {
  for (const char* type : {"connect", "subscribe", "unsubscribe", "publish", "rpc", "history",
                           "presence", "refresh"}) {
    const std::string frame = std::string(R"({"t":")") + type +
                              R"(","ch":"a","data":1,"m":"x","token":"t"})";
    expect_fatal(frame, CommandError::missing_id);
  }
  // ack, pong and the heartbeat ping carry none.
  expect_one(R"({"t":"ack","upto":1})");
  expect_one(R"({"t":"pong"})");
  expect_one(R"({"t":"ping"})");
}

TEST(CommandParser, WholeFrameErrorsCloseAndRunNothing) {
  expect_fatal("", CommandError::not_json);
  expect_fatal("{", CommandError::not_json);
  expect_fatal(R"({"t":"ping","id":1}x)", CommandError::not_json);
  expect_fatal(R"({"t":"ping","id":1}{"t":"ping","id":2})", CommandError::not_json);
  expect_fatal("{\"t\":\"ping\",\"id\":1,\"ch\":\"\xff\"}", CommandError::not_json);
  expect_fatal("[]", CommandError::empty_batch);
  expect_fatal(" [ ] ", CommandError::empty_batch);
  // Invalid JSON anywhere in a batch: not even the requests before it run.
  expect_fatal(R"([{"t":"ping","id":1},{"t":"ping","id":2},])", CommandError::not_json);
  expect_fatal(R"([{"t":"ping","id":1},{"t":"ping","id":2},{"t":"ping","id":03}])", CommandError::not_json);
  expect_fatal(R"([{"t":"publish","id":1,"ch":"a","data":{"x":tru}}])", CommandError::not_json);
}

TEST(CommandParser, ElementsThatAreNotObjects) {
  for (const char* frame : {"5", "\"ping\"", "null", "true", "1.5"})
    expect_fatal(frame, CommandError::not_object);
  expect_fatal("[5]", CommandError::not_object);
  expect_fatal(R"([[{"t":"ping","id":1}]])", CommandError::not_object);
  // The requests before the bad element have run; none after it does.
  Parsed p = parse(R"([{"t":"ping","id":1},"x",{"t":"ping","id":2}])");
  EXPECT_FALSE(p.intact);
  ASSERT_EQ(p.seen.size(), 2u);
  EXPECT_FALSE(p.seen[0].error);
  EXPECT_EQ(p.seen[0].id, 1u);
  EXPECT_EQ(p.seen[1].code, CommandError::not_object);
}

TEST(CommandParser, TypeErrors) {
  expect_refused(R"({"id":3})", CommandError::missing_type, 3);
  expect_refused(R"({"id":3,"t":5})", CommandError::missing_type, 3);
  expect_refused(R"({"id":3,"t":null})", CommandError::missing_type, 3);
  // Where `id` sits in the object does not change whether the request can be answered.
  expect_refused(R"({"t":5,"id":3})", CommandError::missing_type, 3);
  expect_refused(R"({"t":{"x":1},"id":3,"ch":"a"})", CommandError::missing_type, 3);
  expect_fatal(R"({"t":5})", CommandError::missing_type);
  expect_fatal(R"({})", CommandError::missing_type);
  expect_refused(R"({"t":"subscribe2","id":4})", CommandError::unknown_type, 4);
  Parsed empty = parse(R"({"t":"","id":4})");
  ASSERT_EQ(empty.seen.size(), 1u);
  EXPECT_EQ(empty.seen[0].code, CommandError::unknown_type);
  EXPECT_EQ(empty.seen[0].id, 4u);
  expect_refused(R"({"t":"PING","id":4})", CommandError::unknown_type, 4);
  expect_fatal(R"({"t":"nope"})", CommandError::unknown_type);
  // The detail of an unknown type names it.
  EXPECT_EQ(parse(R"({"t":"frobnicate","id":4})").seen.at(0).detail, "frobnicate");
}

TEST(CommandParser, Ids) {
  EXPECT_EQ(expect_one(R"({"t":"ping","id":1})").id, 1u);
  EXPECT_EQ(expect_one(R"({"t":"ping","id":9007199254740991})").id, 9007199254740991u);  // 2^53-1
  for (const char* id : {"0", "-1", "1.5", "1.0", "1e3", "9007199254740992", "18446744073709551615",
                         "\"7\"", "null", "true", "[1]", "{}", "-0"}) {
    expect_fatal(std::string(R"({"t":"ping","id":)") + id + "}", CommandError::bad_id);
    // A bad id makes any request unanswerable, whatever else is wrong with it.
    expect_fatal(std::string(R"({"t":"nope","id":)") + id + "}", CommandError::bad_id);
  }
}

TEST(CommandParser, FieldErrorsAreAnswered) {
  expect_refused(R"({"t":"subscribe","id":1,"ch":5})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"subscribe","id":1,"ch":"a","since":5})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"subscribe","id":1,"ch":"a","since":{"ep":1,"off":2}})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"subscribe","id":1,"ch":"a","since":{"ep":"e","off":-2}})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"subscribe","id":1,"ch":"a","since":{"ep":"e","off":2.5}})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"connect","id":1,"token":7})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"connect","id":1,"client":"js"})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"connect","id":1,"subs":["a"]})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"connect","id":1,"inbox":[]})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"rpc","id":1,"m":["x"]})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"publish","id":1,"ch":"a","data":1,"mid":1})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"ack","id":1,"upto":-1})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"history","id":1,"ch":"a","limit":4294967296})", CommandError::bad_field, 1);
  expect_refused(R"({"t":"history","id":1,"ch":"a","limit":"5"})", CommandError::bad_field, 1);
  EXPECT_EQ(expect_one(R"({"t":"history","id":1,"ch":"a","limit":4294967295})").limit, 4294967295u);
  // A bad field of an ack (which needs no answer) without an id closes.
  expect_fatal(R"({"t":"ack","upto":"x"})", CommandError::bad_field);
}

TEST(CommandParser, FieldSizeLimitsCountUnescapedBytes) {
  CommandLimits limits;
  limits.max_channel_bytes = 4;
  limits.max_token_bytes = 3;
  limits.max_method_bytes = 2;
  limits.max_mid_bytes = 1;
  CommandParser parser(limits);
  auto one = [&](std::string_view frame) { return parse(parser, frame).seen.at(0); };
  EXPECT_FALSE(one(R"({"t":"unsubscribe","id":1,"ch":"abcd"})").error);
  EXPECT_EQ(one(R"({"t":"unsubscribe","id":1,"ch":"abcde"})").code, CommandError::bad_field);
  EXPECT_EQ(one(R"({"t":"unsubscribe","id":1,"ch":"\u0061b\/d"})").channel, "ab/d");
  EXPECT_FALSE(one(R"({"t":"refresh","id":1,"token":"abc"})").error);
  EXPECT_EQ(one(R"({"t":"refresh","id":1,"token":"abcd"})").code, CommandError::bad_field);
  EXPECT_FALSE(one(R"({"t":"rpc","id":1,"m":"ab"})").error);
  EXPECT_EQ(one(R"({"t":"rpc","id":1,"m":"abc"})").code, CommandError::bad_field);
  EXPECT_FALSE(one(R"({"t":"rpc","id":1,"m":"a","mid":"x"})").error);
  EXPECT_EQ(one(R"({"t":"rpc","id":1,"m":"a","mid":"xy"})").code, CommandError::bad_field);
  // The defaults: 255-byte channels, 64 KiB tokens.
  EXPECT_FALSE(expect_one(R"({"t":"unsubscribe","id":1,"ch":")" + std::string(255, 'c') + "\"}").error);
  expect_refused(R"({"t":"unsubscribe","id":1,"ch":")" + std::string(256, 'c') + "\"}", CommandError::bad_field, 1);
  // The default leaves a token's size to the token check (101 too_large), far below it.
  EXPECT_FALSE(expect_one(R"({"t":"refresh","id":1,"token":")" + std::string(65536, 't') + "\"}").error);
  expect_refused(R"({"t":"refresh","id":1,"token":")" + std::string(65537, 't') + "\"}", CommandError::bad_field, 1);
}

TEST(CommandParser, BatchesRunInOrder) {
  Parsed p = parse(R"([{"t":"subscribe","id":1,"ch":"a"},{"t":"nope","id":2},{"t":"ping"},)"
                   R"({"t":"publish","id":3,"ch":"a"},{"t":"unsubscribe","id":4,"ch":"a"}])");
  EXPECT_TRUE(p.intact);
  ASSERT_EQ(p.seen.size(), 5u);
  EXPECT_EQ(p.seen[0].type, CommandType::subscribe);
  EXPECT_EQ(p.seen[1].code, CommandError::unknown_type);
  EXPECT_EQ(p.seen[1].id, 2u);
  EXPECT_EQ(p.seen[2].type, CommandType::ping);
  EXPECT_EQ(p.seen[3].code, CommandError::missing_field);
  EXPECT_EQ(p.seen[3].id, 3u);
  EXPECT_EQ(p.seen[4].type, CommandType::unsubscribe);
  EXPECT_EQ(p.seen[4].id, 4u);

  // A fatal request ends the frame after the ones before it.
  p = parse(R"([{"t":"ping","id":1},{"t":"ping","id":-4},{"t":"ping","id":3}])");
  EXPECT_FALSE(p.intact);
  ASSERT_EQ(p.seen.size(), 2u);
  EXPECT_EQ(p.seen[0].id, 1u);
  EXPECT_EQ(p.seen[1].code, CommandError::bad_id);
  p = parse(R"([{"t":"ping","id":1},{"t":"subscribe","ch":"a"},{"t":"ping","id":3}])");
  EXPECT_FALSE(p.intact);
  ASSERT_EQ(p.seen.size(), 2u);
  EXPECT_EQ(p.seen[1].code, CommandError::missing_id);
}

TEST(CommandParser, BatchSizeLimit) {
  CommandLimits limits;
  limits.max_batch = 3;
  CommandParser parser(limits);
  Parsed p = parse(parser, R"([{"t":"ping","id":1},{"t":"ping","id":2},{"t":"ping","id":3}])");
  EXPECT_TRUE(p.intact);
  EXPECT_EQ(p.seen.size(), 3u);
  p = parse(parser, R"([{"t":"ping","id":1},{"t":"ping","id":2},{"t":"ping","id":3},{"t":"ping","id":4}])");
  EXPECT_FALSE(p.intact);
  ASSERT_EQ(p.seen.size(), 1u);
  EXPECT_EQ(p.seen[0].code, CommandError::batch_too_large);
  // The limit counts requests of a batch; a single object is one.
  EXPECT_TRUE(parse(parser, R"({"t":"ping","id":1})").intact);
}

TEST(CommandParser, UnknownFieldsAreIgnored) {
  Taken c = expect_one(R"({"future":{"deep":[1,{"x":null}]},"t":"subscribe","v":2,"id":8,"ch":"a","x":"y"})");
  EXPECT_EQ(c.type, CommandType::subscribe);
  EXPECT_EQ(c.id, 8u);
  EXPECT_EQ(c.channel, "a");
  // Known fields of other requests are read but mean nothing to this one.
  c = expect_one(R"({"t":"ping","id":2,"token":"x","m":"y"})");
  EXPECT_EQ(c.type, CommandType::ping);
}

// `data` is handed over as the exact bytes the client sent, whatever its type.
TEST(CommandParser, DataIsPassedThroughByteForByte) {
  const char* values[] = {
      R"({ "a" : [ 1 , 2 ] , "b":{"c":"\u00e9\n\"x\""} })",
      R"([ ])",
      R"({})",
      R"("plain")",
      R"("esc\"aped\\ \/ \b\f\n\r\t \u0000 \ud83d\ude00 é")",
      "18446744073709551615",
      "-9223372036854775808",
      "-0.0e+10",
      "1.7976931348623157e308",
      "0",
      "true",
      "false",
      "null",
  };
  for (const char* value : values) {
    SCOPED_TRACE(value);
    // Last member, with whitespace after it; and a member followed by others.
    EXPECT_EQ(expect_one(std::string(R"({"t":"publish","id":1,"ch":"a","data":)") + value + " \n\t }").data, value);
    EXPECT_EQ(expect_one(std::string(R"({"t":"rpc","data":  )") + value + R"(  ,"id":1,"m":"x"})").data, value);
    EXPECT_EQ(expect_one(std::string(R"([{"t":"rpc","id":1,"m":"x","data":)") + value + "}\r\n]").data, value);
  }
}

// simdjson's validator refuses integers beyond 64 bits and numbers beyond a double's range,
// although JSON allows them: a frame carrying one anywhere, even deep in `data`, is taken for one
// that is not JSON and closes the connection.
TEST(CommandParser, NumbersBeyond64BitsPassThroughAsTheyCame) {
  // Numbers are checked by their grammar, never converted: data keeps every digit.
  for (const char* number : {"123456789012345678901234567890", "-18446744073709551617", "18446744073709551616",
                             "1e400", "-0.000000000000000000000000000001e-400"}) {
    const std::string data = std::string(R"({"n":)") + number + "}";
    Taken c = expect_one(std::string(R"({"t":"publish","id":1,"ch":"a","data":)") + data + "}");
    EXPECT_EQ(c.data, data);
  }
  // What is not a number by RFC 8259 §6 is still refused, wherever it is.
  for (const char* bad : {"01", "1.", ".5", "+1", "1e", "-", "0x10", "1.e5", "NaN", "Infinity"})
    expect_fatal(std::string(R"({"t":"publish","id":1,"ch":"a","data":{"n":)") + bad + "}}", CommandError::not_json);
}

TEST(CommandParser, DuplicateKeysTheLastOneWins) {
  Taken c = expect_one(R"({"t":"ping","t":"subscribe","id":1,"ch":"first","ch":"last"})");
  EXPECT_EQ(c.type, CommandType::subscribe);
  EXPECT_EQ(c.channel, "last");
  c = expect_one(R"({"t":"publish","id":1,"id":2,"ch":"a","data":{"v":1},"data":[2]})");
  EXPECT_EQ(c.id, 2u);
  EXPECT_EQ(c.data, "[2]");
  c = expect_one(R"({"t":"subscribe","id":1,"ch":"a","since":{"ep":"x","off":1},"since":{"off":5}})");
  EXPECT_EQ(c.offset, 5u);
  // Any occurrence of a bad id makes the request unanswerable.
  expect_fatal(R"({"t":"ping","id":"x","id":2})", CommandError::bad_id);
  expect_fatal(R"({"t":"ping","id":2,"id":0})", CommandError::bad_id);
  expect_refused(R"({"t":"ping","t":5,"id":3})", CommandError::missing_type, 3);
  EXPECT_EQ(expect_one(R"({"t":5,"t":"ping","id":3})").type, CommandType::ping);
  // Keys are compared unescaped.
  c = expect_one(R"({"\u0074":"ping","\u0069d":4})");
  EXPECT_EQ(c.id, 4u);
}

TEST(CommandParser, WhitespaceAroundTheFrame) {
  EXPECT_EQ(expect_one(" \r\n\t{\"t\":\"ping\",\"id\":1} \n\r\t ").id, 1u);
  Parsed p = parse("\n [ {\"t\" : \"ping\" , \"id\" : 1 } ,\n{ \"t\":\"pong\"} ] \n");
  EXPECT_TRUE(p.intact);
  EXPECT_EQ(p.seen.size(), 2u);
}

// The frame nests at most 64 levels: the batch's array, the request object and a scalar at the
// bottom each count as one.
TEST(CommandParser, DepthLimit) {
  auto nested = [](int arrays) {
    return std::string(R"({"t":"publish","id":1,"ch":"a","data":)") + std::string(size_t(arrays), '[') +
           std::string(size_t(arrays), ']') + "}";
  };
  EXPECT_EQ(expect_one(nested(63)).data, std::string(63, '[') + std::string(63, ']'));
  expect_fatal(nested(64), CommandError::too_deep);
  expect_fatal("[" + nested(63) + "]", CommandError::too_deep);
  Parsed p = parse("[" + nested(62) + "]");
  EXPECT_TRUE(p.intact);
  const std::string scalar_at_62 = std::string(62, '[') + "1" + std::string(62, ']');
  EXPECT_EQ(expect_one(R"({"t":"publish","id":1,"ch":"a","data":)" + scalar_at_62 + "}").data, scalar_at_62);
  expect_fatal(R"({"t":"publish","id":1,"ch":"a","data":[)" + scalar_at_62 + "]}", CommandError::too_deep);
  expect_fatal(std::string(100000, '[') + std::string(100000, ']'), CommandError::too_deep);
}

TEST(CommandParser, ReusedBetweenFramesWithoutLeftovers) {
  CommandParser parser;
  Parsed big = parse(parser, R"({"t":"publish","id":1,"ch":"a","data":")" + std::string(100000, 'x') + "\"}");
  ASSERT_EQ(big.seen.size(), 1u);
  EXPECT_EQ(big.seen[0].data.size(), 100002u);
  Parsed small = parse(parser, R"({"t":"rpc","id":2,"m":"x"})");
  ASSERT_EQ(small.seen.size(), 1u);
  EXPECT_FALSE(small.seen[0].has_data);
  EXPECT_EQ(small.seen[0].channel, "");
  EXPECT_EQ(small.seen[0].id, 2u);
}

TEST(CommandParser, ErrorsMapToCodesAndCloses) {
  struct Row {
    CommandError error;
    bool fatal;
    ErrorCode code;
    const char* name;
  };
  const Row rows[] = {
      {CommandError::not_json, true, ErrorCode::bad_request, "not_json"},
      {CommandError::not_object, false, ErrorCode::bad_request, "not_object"},
      {CommandError::missing_type, false, ErrorCode::bad_request, "missing_type"},
      {CommandError::unknown_type, false, ErrorCode::method_not_found, "unknown_type"},
      {CommandError::bad_id, true, ErrorCode::bad_request, "bad_id"},
      {CommandError::missing_id, true, ErrorCode::bad_request, "missing_id"},
      {CommandError::bad_field, false, ErrorCode::bad_request, "bad_field"},
      {CommandError::missing_field, false, ErrorCode::bad_request, "missing_field"},
      {CommandError::batch_too_large, true, ErrorCode::bad_request, "batch_too_large"},
      {CommandError::empty_batch, true, ErrorCode::bad_request, "empty_batch"},
      {CommandError::too_deep, true, ErrorCode::bad_request, "too_deep"},
  };
  static_assert(std::size(rows) == size_t(CommandError::count_) - 1);
  for (const Row& row : rows) {
    EXPECT_EQ(command_error_is_fatal(row.error), row.fatal) << row.name;
    EXPECT_EQ(command_error_code(row.error), row.code) << row.name;
    EXPECT_EQ(command_error_name(row.error), row.name);
  }
  const char* types[] = {"connect", "subscribe", "unsubscribe", "publish", "rpc", "ack",
                         "history", "presence", "refresh", "ping", "pong"};
  static_assert(std::size(types) == size_t(CommandType::count_));
  for (size_t i = 0; i < std::size(types); ++i) EXPECT_EQ(command_name(CommandType(i)), types[i]);
}

}  // namespace
}  // namespace wshub::hub
