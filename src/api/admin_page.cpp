#include "api/admin_page.h"

#include "api/admin_assets.h"
#include "base/clock.h"
#include "hub/channel_name.h"
#include "hub/json_writer.h"

namespace wshub::api {

namespace {

// The page runs no inline script and loads nothing from elsewhere; the WebSocket goes to the
// hub listener, which is another port (so another origin): ws: and wss: are allowed.
constexpr std::string_view kPageHeaders =
    "Cache-Control: no-store\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n";

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool is_json(const server::HttpRequest& request) {
  const proto::HttpHeader* type = request.head.find("Content-Type");
  return type && proto::equals_ignore_case(type->value.substr(0, 16), "application/json");
}

}  // namespace

AdminPage::AdminPage(AdminSettings settings, hub::Hub* hub, std::function<bool(std::string_view)> key_matches,
                     std::function<void(ApiEndpoint, const server::HttpRequest&, const ApiReply&)> run_endpoint)
    : settings_(std::move(settings)), hub_(hub), key_matches_(std::move(key_matches)),
      run_endpoint_(std::move(run_endpoint)), sessions_(settings_.session_lifetime_ms),
      ticker_(hub, settings_.state) {}

bool AdminPage::authenticated(const server::HttpRequest& request) {
  if (const std::string_view key = presented_key(request.head); !key.empty()) return key_matches_(key);
  const proto::HttpHeader* cookie = request.head.find("Cookie");
  std::string_view token;
  return cookie && cookie_value(cookie->value, AdminSessions::kCookieName, token) &&
         sessions_.valid(token, monotonic_ms());
}

void AdminPage::on_request(const server::HttpRequest& request, const ApiReply& reply) {
  const std::string_view path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  // Static files hold no data: the login page needs its stylesheet before anyone logs in.
  if (path.substr(0, 14) == "/admin/assets/") {
    if (!get) return reply.error(405, 107, "the admin assets take GET");
    return asset(path.substr(14), reply);
  }
  if (path == "/admin/login") {
    if (post) return login(request, reply);
    return reply.send(303, {}, "text/plain", "Location: /admin\r\n");
  }
  if (path == "/admin/logout") {
    if (!post) return reply.error(405, 107, "log out with POST");
    return logout(request, reply);
  }
  const bool page_path = path == "/admin" || path == "/admin/";
  if (!authenticated(request)) {
    if (page_path) return login_page(reply, 401, {});
    return reply.error(401, 101, "log in at /admin, or send the API key ('Authorization: Bearer KEY')");
  }
  if (page_path) {
    if (!get) return reply.error(405, 107, "the admin page takes GET");
    return page(reply);
  }
  if (path == "/admin/api/state") {
    if (!get) return reply.error(405, 107, "the admin state takes GET");
    return reply.send(200, settings_.state(), "application/json", "Cache-Control: no-store\r\n");
  }
  const bool action = path == "/admin/api/token" || path == "/admin/api/publish" || path == "/admin/api/send";
  if (!action) return reply.error(404, 104, "no admin endpoint at " + std::string(path.substr(0, 120)));
  if (!post) return reply.error(405, 107, "this admin endpoint takes POST");
  // A cross-site form cannot send this type without the browser asking first (CORS), so a
  // page elsewhere cannot make a logged-in browser act, whatever the cookie's SameSite.
  if (!is_json(request)) return reply.error(415, 107, "send Content-Type: application/json");
  if (path == "/admin/api/token") return token(request, reply);
  const ApiEndpoint endpoint = path == "/admin/api/publish" ? ApiEndpoint::publish : ApiEndpoint::send;
  run_endpoint_(endpoint, request, ApiReply{reply.responder, reply.counters, endpoint});
}

void AdminPage::login(const server::HttpRequest& request, const ApiReply& reply) {
  std::string key;
  if (!query_value(request.body, "key", key) || key.empty())
    return login_page(reply, 400, "Enter the API key ([api] key).");
  if (!key_matches_(key)) {
    login_log_.write("{} admin login refused: wrong API key", request.client.to_string());
    return login_page(reply, 401, "That is not the API key.");
  }
  const std::string token = sessions_.open(monotonic_ms());
  if (token.empty()) return login_page(reply, 503, "No random bytes for a session; try again.");
  reply.send(303, {}, "text/plain", "Location: /admin\r\n" + sessions_.set_cookie_line(token));
}

void AdminPage::logout(const server::HttpRequest& request, const ApiReply& reply) {
  std::string_view token;
  if (const proto::HttpHeader* cookie = request.head.find("Cookie");
      cookie && cookie_value(cookie->value, AdminSessions::kCookieName, token))
    sessions_.close(token);
  reply.send(303, {}, "text/plain", "Location: /admin\r\n" + sessions_.set_cookie_line({}));
}

void AdminPage::page(const ApiReply& reply) {
  const AdminAsset* index = find_admin_asset("index.html");
  reply.send(200, std::string(index->bytes), "text/html; charset=utf-8", std::string(kPageHeaders));
}

void AdminPage::login_page(const ApiReply& reply, uint16_t status, std::string_view message) {
  std::string html(find_admin_asset("login.html")->bytes);
  const std::string_view slot = "<!--message-->";
  if (const size_t at = html.find(slot); at != std::string::npos && !message.empty())
    html.replace(at, slot.size(), "<p class=\"problem\" role=\"alert\">" + html_escape(message) + "</p>");
  reply.send(status, std::move(html), "text/html; charset=utf-8", std::string(kPageHeaders));
}

void AdminPage::asset(std::string_view name, const ApiReply& reply) {
  const AdminAsset* found = find_admin_asset(name);
  if (!found || name == "index.html" || name == "login.html")
    return reply.error(404, 104, "no admin asset " + std::string(name.substr(0, 120)));
  reply.send(200, std::string(found->bytes), admin_content_type(name),
             "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n");
}

void AdminPage::token(const server::HttpRequest& request, const ApiReply& reply) {
  std::string token, why;
  if (!settings_.mint_token || !settings_.mint_token(token, why))
    return reply.error(501, 108, why.empty() ? "live updates are not available: the page polls" : why);
  std::string body;
  hub::JsonWriter(body).begin_object().member("token", token).member("channel", hub::kAdminStatsChannel)
      .end_object();
  body.push_back('\n');
  reply.send(200, std::move(body), "application/json", "Cache-Control: no-store\r\n");
}

const AdminAsset* find_admin_asset(std::string_view name) {
  for (size_t i = 0; i < kAdminAssetCount; ++i)
    if (kAdminAssets[i].name == name) return &kAdminAssets[i];
  return nullptr;
}

std::string_view admin_content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace wshub::api
