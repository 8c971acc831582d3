// The admin page's routes through ApiService: the login page for a visitor without the key,
// the login that sets the session cookie, what the cookie opens (the page and its JSON, not
// the API), logout, the static assets, and the JSON type the page's actions must carry.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/admin_state.h"
#include "api/api_service.h"
#include "hub/hub.h"
#include "proto/http_head.h"
#include "server/http_service.h"

namespace wshub::api {
namespace {

class RecordingSink final : public server::HttpResponseSink {
 public:
  bool respond_http(server::ConnectionRef, uint32_t, const server::HttpResponse& response) override {
    last = response;
    last_content_type = std::string(response.content_type);
    ++answers;
    return true;
  }
  server::HttpResponse last;
  std::string last_content_type;
  int answers = 0;
};

class AdminPageTest : public ::testing::Test {
 protected:
  AdminPageTest()
      : hub_(hub::default_hub_config(), hub::make_memory_store(), nullptr),
        api_(hub_, ApiSettings{"the-key", true}, [] { return std::string("{}"); },
             [] { return std::string(); }, [] { return true; }) {
    AdminSettings admin;
    admin.state = [] { return std::string("{\"state\":1}"); };
    admin.mint_token = [](std::string&, std::string& why) {
      why = "no signing key in this test";
      return false;
    };
    api_.enable_admin(std::move(admin));
  }

  // Sends one request (`headers`: whole lines with CRLF) and returns the answer.
  const server::HttpResponse& send(std::string_view method, std::string_view target,
                                   std::string headers = {}, std::string body = {}) {
    text_ = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n";
    head_ = proto::HttpRequestHead{};
    proto::HttpHeadParser parser;
    EXPECT_EQ(parser.parse(text_, head_), proto::HttpHeadParser::Status::done);
    body_ = std::move(body);
    const size_t q = target.find('?');
    const server::HttpRequest request{head_, method, target.substr(0, q),
                                      q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                                      body_, client_, 0, server::HttpResponder(&sink_, {}, 1)};
    const int before = sink_.answers;
    api_.on_request(request);
    EXPECT_EQ(sink_.answers, before + 1) << "one answer per request";
    return sink_.last;
  }

  // The session token from a successful login.
  std::string log_in() {
    const server::HttpResponse& answer = send("POST", "/admin/login",
                                              "Content-Type: application/x-www-form-urlencoded\r\n", "key=the-key");
    EXPECT_EQ(answer.status, 303);
    const std::string& headers = answer.extra_headers;
    const size_t at = headers.find("wshub_admin=");
    if (at == std::string::npos) return {};
    const size_t end = headers.find(';', at);
    return headers.substr(at + 12, end - at - 12);
  }

  hub::Hub hub_;
  ApiService api_;
  RecordingSink sink_;
  net::IpAddress client_{};
  std::string text_, body_;
  proto::HttpRequestHead head_;
};

TEST_F(AdminPageTest, AVisitorWithoutTheKeyGetsTheLoginForm) {
  const server::HttpResponse& answer = send("GET", "/admin");
  EXPECT_EQ(answer.status, 401);
  EXPECT_EQ(sink_.last_content_type, "text/html; charset=utf-8");
  EXPECT_NE(answer.body.find("<form method=\"post\" action=\"/admin/login\">"), std::string::npos);
  EXPECT_NE(answer.extra_headers.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  EXPECT_NE(answer.extra_headers.find("X-Frame-Options: DENY"), std::string::npos);
  EXPECT_EQ(send("GET", "/admin/api/state").status, 401);
  EXPECT_EQ(send("POST", "/admin/api/publish", "Content-Type: application/json\r\n",
                 R"({"channel":"news","data":1})").status, 401);
}

TEST_F(AdminPageTest, AWrongKeyIsToldAndGetsNoCookie) {
  const server::HttpResponse& answer = send("POST", "/admin/login", {}, "key=not-the-key");
  EXPECT_EQ(answer.status, 401);
  EXPECT_NE(answer.body.find("That is not the API key."), std::string::npos);
  EXPECT_EQ(answer.extra_headers.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(send("POST", "/admin/login", {}, "").status, 400);
}

TEST_F(AdminPageTest, TheLoginCookieOpensThePageAndItsStateButNotTheApi) {
  const std::string token = log_in();
  ASSERT_EQ(token.size(), 64u);
  EXPECT_NE(sink_.last.extra_headers.find("Location: /admin\r\n"), std::string::npos);
  EXPECT_NE(sink_.last.extra_headers.find("HttpOnly; SameSite=Strict"), std::string::npos);
  const std::string cookie = "Cookie: other=1; wshub_admin=" + token + "\r\n";
  const server::HttpResponse& page = send("GET", "/admin", cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<script src=\"/admin/assets/wshub.js\""), std::string::npos);
  const server::HttpResponse& state = send("GET", "/admin/api/state", cookie);
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.body, "{\"state\":1}");
  // The cookie is the page's, not a way around the API key.
  EXPECT_EQ(send("POST", "/api/publish", cookie, R"({"channel":"news","data":1})").status, 401);
  EXPECT_EQ(send("GET", "/admin/api/state", "Cookie: wshub_admin=" + token.substr(1) + "x\r\n").status, 401);
}

TEST_F(AdminPageTest, TheApiKeyOpensThePageWithoutALogin) {
  EXPECT_EQ(send("GET", "/admin/api/state", "Authorization: Bearer the-key\r\n").status, 200);
  EXPECT_EQ(send("GET", "/admin", "X-API-Key: the-key\r\n").status, 200);
  EXPECT_EQ(send("GET", "/admin/api/state", "Authorization: Bearer wrong\r\n").status, 401);
}

TEST_F(AdminPageTest, LogoutEndsTheSession) {
  const std::string cookie = "Cookie: wshub_admin=" + log_in() + "\r\n";
  EXPECT_EQ(send("GET", "/admin/api/state", cookie).status, 200);
  const server::HttpResponse& out = send("POST", "/admin/logout", cookie);
  EXPECT_EQ(out.status, 303);
  EXPECT_NE(out.extra_headers.find("wshub_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"),
            std::string::npos);
  EXPECT_EQ(send("GET", "/admin/api/state", cookie).status, 401);
}

TEST_F(AdminPageTest, ActionsMustBeJsonSoNoCrossSiteFormCanPostThem) {
  const std::string cookie = "Cookie: wshub_admin=" + log_in() + "\r\n";
  EXPECT_EQ(send("POST", "/admin/api/token", cookie, "{}").status, 415);
  EXPECT_EQ(send("POST", "/admin/api/token", cookie + "Content-Type: text/plain\r\n", "{}").status, 415);
  const server::HttpResponse& token = send("POST", "/admin/api/token", cookie + "Content-Type: application/json\r\n", "{}");
  EXPECT_EQ(token.status, 501);
  EXPECT_NE(token.body.find("no signing key in this test"), std::string::npos);
  // Send arrives with the store: the page shows this answer.
  const server::HttpResponse& sent = send("POST", "/admin/api/send", cookie + "Content-Type: application/json\r\n",
                                          R"({"user":"alice","data":1})");
  EXPECT_EQ(sent.status, 501);
  EXPECT_EQ(send("GET", "/admin/api/publish", cookie).status, 405);
  EXPECT_EQ(send("GET", "/admin/api/nothing", cookie).status, 404);
}

TEST_F(AdminPageTest, StaticAssetsAreEmbeddedAndOpen) {
  const server::HttpResponse& css = send("GET", "/admin/assets/admin.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(sink_.last_content_type, "text/css; charset=utf-8");
  EXPECT_NE(css.body.find(".cards"), std::string::npos);
  const server::HttpResponse& script = send("GET", "/admin/assets/admin.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_NE(script.body.find("$admin:stats"), std::string::npos);
  // The SDK's bundle, or the placeholder that says why it is missing.
  const server::HttpResponse& sdk = send("GET", "/admin/assets/wshub.js");
  EXPECT_EQ(sdk.status, 200);
  EXPECT_TRUE(sdk.body.find("var Wshub") != std::string::npos ||
              sdk.body.find("WshubPlaceholder") != std::string::npos);
  // The page itself is not an open asset.
  EXPECT_EQ(send("GET", "/admin/assets/index.html").status, 404);
  EXPECT_EQ(send("GET", "/admin/assets/none.js").status, 404);
}

}  // namespace
}  // namespace wshub::api
