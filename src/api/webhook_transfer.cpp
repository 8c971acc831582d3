#include "api/webhook_transfer.h"

#include <fmt/format.h>

#include <algorithm>

#include "api/webhook_signature.h"

namespace wshub::api {
namespace {

constexpr const char* kUserAgent = "wshub/" WSHUB_VERSION;

// libcurl's write callback: appends to the completion's body, or refuses (aborting the
// transfer with CURLE_WRITE_ERROR) once the body would pass max_response_bytes. Calls without a
// completion (notices) count the bytes and keep none.
size_t on_body(char* data, size_t size, size_t count, void* call_ptr) {
  auto& call = *static_cast<WebhookCall*>(call_ptr);
  size_t bytes = size * count;
  if (bytes > call.max_response_bytes - call.received) {
    call.too_large = true;
    return 0;
  }
  call.received += bytes;
  if (call.completion) call.completion->result().body.append(data, bytes);
  return bytes;
}

void set_fixed_options(CURL* easy, const WebhookEndpointConfig& config) {
  curl_easy_setopt(easy, CURLOPT_URL, config.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  // A webhook goes where the config says: never through a proxy named by the environment.
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(config.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN,
                   long(std::max<uint32_t>(1, config.keepalive_idle_ms / 1000)));
  // A declared Content-Length over the limit aborts before any body byte is read.
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(config.max_response_bytes));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, kUserAgent);
  if (!config.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, config.ca_file.c_str());
}

bool is_connect_failure(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return true;
    default:
      return false;
  }
}

}  // namespace

EasyHandlePool::~EasyHandlePool() {
  for (CURL* easy : idle_) curl_easy_cleanup(easy);
}

CURL* EasyHandlePool::take() {
  if (!idle_.empty()) {
    CURL* easy = idle_.back();
    idle_.pop_back();
    return easy;
  }
  CURL* easy = curl_easy_init();
  if (easy) set_fixed_options(easy, config_);
  return easy;
}

void EasyHandlePool::give_back(CURL* easy) {
  // At most max_concurrent handles exist per endpoint, so the list never grows past that.
  idle_.push_back(easy);
}

bool prepare_attempt(WebhookCall& call, const WebhookEndpointConfig& config,
                     uint32_t attempt_timeout_ms, int64_t unix_now) {
  call.received = 0;
  call.too_large = false;
  call.max_response_bytes = config.max_response_bytes;
  if (call.completion) call.completion->result().body.clear();

  std::string signature = fmt::format("X-Wshub-Signature: {}",
                                      webhook_signature(config.secret, unix_now, call.body));
  std::string delivery = fmt::format("X-Wshub-Delivery: {:016x}", call.delivery_id);
  std::string attempt = fmt::format("X-Wshub-Attempt: {}", call.attempts);
  curl_slist* headers = nullptr;
  for (const char* line : {"Content-Type: application/json",
                           // No 100-continue round trip before larger bodies.
                           "Expect:", signature.c_str(), delivery.c_str(), attempt.c_str()}) {
    curl_slist* grown = curl_slist_append(headers, line);
    if (!grown) {
      curl_slist_free_all(headers);
      return false;
    }
    headers = grown;
  }
  call.headers = headers;
  CURL* easy = call.easy;
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, call.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(call.body.size()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(std::max<uint32_t>(1, attempt_timeout_ms)));
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &call);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &call);
  return true;
}

void release_attempt(WebhookCall& call) {
  curl_slist_free_all(call.headers);
  call.headers = nullptr;
}

AttemptResult classify_attempt(const WebhookCall& call, CURLcode code,
                               const WebhookEndpointConfig& config, uint64_t elapsed_ms) {
  long status = 0;
  curl_easy_getinfo(call.easy, CURLINFO_RESPONSE_CODE, &status);
  auto http_status = uint16_t(status > 0 && status < 1000 ? status : 0);
  if (code == CURLE_OK) {
    if (http_status >= 200 && http_status < 300)
      return {WebhookOutcome::ok, http_status, "ok"};
    return {WebhookOutcome::http_status_error, http_status, "the backend answered with an error status"};
  }
  if (code == CURLE_FILESIZE_EXCEEDED || (code == CURLE_WRITE_ERROR && call.too_large))
    return {WebhookOutcome::response_too_large, http_status,
            "the answer is larger than max_response_bytes"};
  if (code == CURLE_OPERATION_TIMEDOUT) {
    curl_off_t pretransfer_us = 0;
    curl_easy_getinfo(call.easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    if (pretransfer_us == 0 && elapsed_ms >= config.connect_timeout_ms)
      return {WebhookOutcome::connect_failed, 0, "no connection within connect_timeout_ms"};
    return {WebhookOutcome::timeout, http_status, "no complete answer within the timeout"};
  }
  if (is_connect_failure(code)) return {WebhookOutcome::connect_failed, 0, curl_easy_strerror(code)};
  return {WebhookOutcome::transport_error, http_status, curl_easy_strerror(code)};
}

}  // namespace wshub::api
