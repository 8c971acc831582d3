// The admin page on the API listener (docs/api.md "Admin page"): GET /admin and its embedded
// assets, the login form that turns the API key into a session cookie, and the page's JSON
// endpoints (/admin/api/state, token, publish, send). Everything but the static assets needs
// the API key (Authorization or X-API-Key) or a valid session cookie; without either the page
// answers 401 with the login form. Internal to the api layer.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api/admin_sessions.h"
#include "api/admin_state.h"
#include "api/admin_stats_ticker.h"
#include "api/api_handlers.h"
#include "server/peer_error_log.h"

namespace wshub::api {

class AdminPage {
 public:
  // `key_matches` compares a presented key with the API key in constant time; `run_endpoint`
  // runs an API endpoint (publish, send) for the page once it is authenticated.
  AdminPage(AdminSettings settings, hub::Hub* hub, std::function<bool(std::string_view)> key_matches,
            std::function<void(ApiEndpoint, const server::HttpRequest&, const ApiReply&)> run_endpoint);

  static bool owns(std::string_view path) { return path == "/admin" || path.substr(0, 7) == "/admin/"; }
  // Any worker thread; `reply` counts under ApiEndpoint::admin.
  void on_request(const server::HttpRequest& request, const ApiReply& reply);

  AdminSessions& sessions() { return sessions_; }
  // Once the workers run: starts publishing to $admin:stats while it has subscribers.
  void start_live_updates() { ticker_.start(0); }

 private:
  bool authenticated(const server::HttpRequest& request);
  void login(const server::HttpRequest& request, const ApiReply& reply);
  void logout(const server::HttpRequest& request, const ApiReply& reply);
  void page(const ApiReply& reply);
  void login_page(const ApiReply& reply, uint16_t status, std::string_view message);
  void asset(std::string_view name, const ApiReply& reply);
  void token(const server::HttpRequest& request, const ApiReply& reply);

  AdminSettings settings_;
  hub::Hub* hub_;
  std::function<bool(std::string_view)> key_matches_;
  std::function<void(ApiEndpoint, const server::HttpRequest&, const ApiReply&)> run_endpoint_;
  AdminSessions sessions_;
  AdminStatsTicker ticker_;
  server::PeerErrorLog login_log_{5};  // wrong keys at the login form, 5 lines a second at most
};

}  // namespace wshub::api
