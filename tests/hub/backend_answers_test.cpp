// What the backend answers to the connect, rpc, subscribe and publish webhooks, and connect's
// `subs`: the typed values read, refusals, and a named problem for garbage and wrong types.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/backend_answers.h"

namespace wshub::hub {
namespace {

struct Connect {
  bool ok = false;
  Identity identity;
  BackendRefusal refusal;
  std::string problem;
};

Connect connect_answer(std::string_view body) {
  Connect out;
  out.ok = read_connect_answer(body, out.identity, out.refusal, out.problem);
  return out;
}

TEST(ConnectAnswer, FullResult) {
  Connect c = connect_answer(
      R"({"result":{"user":"alice","device":"phone","channels":["news:*","chat:1"],)"
      R"("info":{ "name" : "Alice", "tags":[1, 2] },"exp":1700000000}})");
  ASSERT_TRUE(c.ok) << c.problem;
  EXPECT_FALSE(c.refusal.present);
  EXPECT_EQ(c.identity.user, "alice");
  EXPECT_EQ(c.identity.device, "phone");
  EXPECT_EQ(c.identity.channels, (std::vector<std::string>{"news:*", "chat:1"}));
  EXPECT_EQ(c.identity.info_json, R"({"name":"Alice","tags":[1,2]})");  // minified
  EXPECT_EQ(c.identity.expires_ms, 1700000000000);
}

TEST(ConnectAnswer, MinimalAndAnonymous) {
  Connect c = connect_answer(R"({"result":{"user":"bob"}})");
  ASSERT_TRUE(c.ok) << c.problem;
  EXPECT_EQ(c.identity.user, "bob");
  EXPECT_EQ(c.identity.device, "");
  EXPECT_TRUE(c.identity.channels.empty());
  EXPECT_EQ(c.identity.info_json, "");
  EXPECT_EQ(c.identity.expires_ms, 0);
  c = connect_answer(R"({"result":{"user":""}})");
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.identity.user, "");
}

TEST(ConnectAnswer, Refusal) {
  Connect c = connect_answer(R"({"error":{"code":4403,"message":"banned"}})");
  ASSERT_TRUE(c.ok) << c.problem;
  ASSERT_TRUE(c.refusal.present);
  EXPECT_EQ(c.refusal.code, 4403u);
  EXPECT_EQ(c.refusal.message, "banned");
  // The message is optional; an error wins over a result.
  c = connect_answer(R"({"result":{"user":"x"},"error":{"code":101}})");
  ASSERT_TRUE(c.ok);
  ASSERT_TRUE(c.refusal.present);
  EXPECT_EQ(c.refusal.code, 101u);
  EXPECT_EQ(c.refusal.message, "");
  EXPECT_EQ(c.identity.user, "");
}

TEST(ConnectAnswer, GarbageAndWrongTypesAreProblems) {
  for (std::string_view body : {
           "", "not json", "[]", "5", R"("result")", "{", R"({"result":{"user":"a"})",
           R"({})", R"({"result":null})", R"({"result":[]})", R"({"result":{}})",
           R"({"result":{"user":5}})", R"({"result":{"user":null}})",
           R"({"result":{"user":"a","info":"x"}})", R"({"result":{"user":"a","info":[1]}})",
           R"({"error":"no"})", R"({"error":{}})", R"({"error":{"code":0}})", R"({"error":{"code":-1}})",
           R"({"error":{"code":65536}})", R"({"error":{"code":"101"}})", R"({"error":{"code":1.5}})",
           // An expiry that is not whole seconds, or that no clock can reach, is not silently "never".
           R"({"result":{"user":"a","exp":"1700000000"}})", R"({"result":{"user":"a","exp":1.7e9}})",
           R"({"result":{"user":"a","exp":9223372036854775807}})",
           R"({"result":{"user":"a","exp":-9223372036854775807}})",
           R"({"result":{"user":"a","exp":18446744073709551615}})"}) {
    Connect c = connect_answer(body);
    EXPECT_FALSE(c.ok) << body;
    EXPECT_FALSE(c.problem.empty()) << body;
  }
}

TEST(ConnectAnswer, LenientOptionalFields) {
  // A device or channels of the wrong type give the connection less, never more.
  Connect c = connect_answer(R"({"result":{"user":"a","device":7,"channels":"news","extra":1}})");
  ASSERT_TRUE(c.ok) << c.problem;
  EXPECT_EQ(c.identity.device, "");
  EXPECT_TRUE(c.identity.channels.empty());
  c = connect_answer(R"({"result":{"user":"a","channels":["ok",5,null,"fine"]}})");
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.identity.channels, (std::vector<std::string>{"ok", "fine"}));
  c = connect_answer(R"({"result":{"user":"a","exp":0}})");
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.identity.expires_ms, 0);
}

struct Rpc {
  bool ok = false;
  std::string data;
  BackendRefusal refusal;
  std::string problem;
};

Rpc rpc_answer(std::string_view body) {
  Rpc out;
  out.ok = read_rpc_answer(body, out.data, out.refusal, out.problem);
  return out;
}

TEST(RpcAnswer, Data) {
  EXPECT_EQ(rpc_answer(R"({"data":{"a": [1, "x"]}})").data, R"({"a":[1,"x"]})");
  EXPECT_EQ(rpc_answer(R"({"data":"text \"q\" \u00e9"})").data, "\"text \\\"q\\\" \xc3\xa9\"");
  EXPECT_EQ(rpc_answer(R"({"data":12345678901234567890})").data, "12345678901234567890");
  EXPECT_EQ(rpc_answer(R"({"data":null})").data, "null");
  EXPECT_EQ(rpc_answer(R"({})").data, "null");
  EXPECT_EQ(rpc_answer(R"({"other":1})").data, "null");
  Rpc r = rpc_answer(R"({"data":[true,false]})");
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.refusal.present);
}

TEST(RpcAnswer, Refusal) {
  Rpc r = rpc_answer(R"({"error":{"code":1042,"message":"no such order"}})");
  ASSERT_TRUE(r.ok) << r.problem;
  ASSERT_TRUE(r.refusal.present);
  EXPECT_EQ(r.refusal.code, 1042u);
  EXPECT_EQ(r.refusal.message, "no such order");
  r = rpc_answer(R"({"error":{"code":65535,"message":7}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.refusal.code, 65535u);
  EXPECT_EQ(r.refusal.message, "");
}

TEST(RpcAnswer, Garbage) {
  for (std::string_view body : {"", "<html>502</html>", "[1]", "null", R"({"error":5})",
                                R"({"error":{"message":"x"}})", R"({"data":1)"}) {
    Rpc r = rpc_answer(body);
    EXPECT_FALSE(r.ok) << body;
    EXPECT_FALSE(r.problem.empty()) << body;
  }
}

struct Decision {
  bool ok = false;
  bool replaced = false;
  std::string data;
  BackendRefusal refusal;
  std::string problem;
};

Decision decision(std::string_view body) {
  Decision out;
  out.replaced = true;  // must be reset by the reader
  out.ok = read_decision_answer(body, out.replaced, out.data, out.refusal, out.problem);
  return out;
}

TEST(DecisionAnswer, AllowsAndRewrites) {
  for (std::string_view body : {"", "{}", R"({"result":{}})", R"({"result":{"other":1}})", R"({"result":5})"}) {
    Decision d = decision(body);
    EXPECT_TRUE(d.ok) << body << ": " << d.problem;
    EXPECT_FALSE(d.replaced) << body;
    EXPECT_FALSE(d.refusal.present) << body;
  }
  Decision d = decision(R"({"result":{"data":{"text":"***", "n" : 1}}})");
  ASSERT_TRUE(d.ok);
  EXPECT_TRUE(d.replaced);
  EXPECT_EQ(d.data, R"({"text":"***","n":1})");
  d = decision(R"({"result":{"data":null}})");
  EXPECT_TRUE(d.replaced);
  EXPECT_EQ(d.data, "null");
}

TEST(DecisionAnswer, RefusalAndGarbage) {
  Decision d = decision(R"({"error":{"code":103,"message":"not in this room"}})");
  ASSERT_TRUE(d.ok);
  ASSERT_TRUE(d.refusal.present);
  EXPECT_EQ(d.refusal.code, 103u);
  EXPECT_EQ(d.refusal.message, "not in this room");
  for (std::string_view body : {"ok", "[]", "true", R"({"error":[]})", R"({"error":{"code":0}})", " "}) {
    Decision g = decision(body);
    EXPECT_FALSE(g.ok) << body;
    EXPECT_FALSE(g.problem.empty()) << body;
  }
}

struct Subs {
  bool ok = false;
  std::vector<SubsEntry> entries;
  std::string problem;
};

Subs subs(std::string_view json, size_t max = 10) {
  Subs out;
  out.entries.push_back({"stale", true, "e", 1});  // must be cleared by the reader
  out.ok = read_connect_subs(json, max, out.entries, out.problem);
  return out;
}

TEST(ConnectSubs, Entries) {
  Subs s = subs(R"({"news":{"since":{"ep":"e1","off":41}},"chat:1":{},"x":null,"y":{"since":null},"z":5})");
  ASSERT_TRUE(s.ok) << s.problem;
  ASSERT_EQ(s.entries.size(), 5u);
  EXPECT_EQ(s.entries[0].channel, "news");
  EXPECT_TRUE(s.entries[0].has_since);
  EXPECT_EQ(s.entries[0].epoch, "e1");
  EXPECT_EQ(s.entries[0].offset, 41u);
  for (size_t i = 1; i < 5; ++i) EXPECT_FALSE(s.entries[i].has_since) << s.entries[i].channel;
  EXPECT_EQ(s.entries[1].channel, "chat:1");
  EXPECT_EQ(s.entries[4].channel, "z");

  s = subs("");
  EXPECT_TRUE(s.ok);
  EXPECT_TRUE(s.entries.empty());
  s = subs("{}");
  EXPECT_TRUE(s.ok);
  EXPECT_TRUE(s.entries.empty());
}

TEST(ConnectSubs, Limits) {
  EXPECT_TRUE(subs(R"({"a":{},"b":{},"c":{}})", 3).ok);
  Subs s = subs(R"({"a":{},"b":{},"c":{},"d":{}})", 3);
  EXPECT_FALSE(s.ok);
  EXPECT_FALSE(s.problem.empty());
  EXPECT_FALSE(subs(R"({"a":{}})", 0).ok);
}

TEST(ConnectSubs, BadPositions) {
  for (std::string_view json : {R"({"a":{"since":{"ep":"e"}}})", R"({"a":{"since":{"off":1}}})",
                                R"({"a":{"since":{"ep":1,"off":1}}})", R"({"a":{"since":{"ep":"e","off":-1}}})",
                                R"({"a":{"since":{"ep":"e","off":"1"}}})", "[]", "not json"}) {
    Subs s = subs(json);
    EXPECT_FALSE(s.ok) << json;
    EXPECT_FALSE(s.problem.empty()) << json;
  }
  // The problem names the channel.
  EXPECT_NE(subs(R"({"room:9":{"since":{"ep":"e"}}})").problem.find("room:9"), std::string::npos);
}

}  // namespace
}  // namespace wshub::hub
