#include "server/server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <stdexcept>

#include "base/clock.h"
#include "net/socket_ops.h"
#include "server/worker.h"
#include "tls/tls_context.h"

namespace wshub::server {

namespace {

uint32_t resolve_threads(uint32_t configured) {
  if (configured) return configured;
  unsigned cores = std::thread::hardware_concurrency();
  return cores ? cores : 1;
}

// Descriptors the server keeps for itself: per worker its epoll or io_uring descriptor, its
// eventfd and one listening socket per address; plus a few dozen for logs, certificate files
// and the process itself. Each connection is one descriptor more.
uint64_t descriptor_reserve(uint32_t threads, size_t listeners) {
  return 48 + uint64_t(threads) * (2 + listeners);
}

uint32_t resolve_max_connections(uint32_t configured, uint32_t threads, size_t listeners) {
  const uint64_t files = net::raise_open_file_limit();
  const uint64_t reserve = descriptor_reserve(threads, listeners);
  const uint64_t by_files = files > reserve ? files - reserve : 1;
  if (configured == 0) return uint32_t(std::min<uint64_t>(by_files, UINT32_MAX));
  return configured;  // an explicit value wins; start() warns when descriptors cannot back it
}

// Before anything is bound: SO_REUSEPORT would let this process join a port another one (of
// the same user) listens on, and the kernel would split the connections between the two.
void refuse_taken_addresses(const std::vector<ListenerConfig>& listeners) {
  for (const ListenerConfig& listener : listeners) {
    if (!net::someone_listens_on(listener.address)) continue;
    if (!listener.share_port)
      throw std::runtime_error(fmt::format(
          "cannot listen on {}: another process already listens on this address (a wshub "
          "still running?), and sharing it would split the connections between the two; stop "
          "that process or choose another port, or, to share the port on purpose (a "
          "zero-downtime restart), set share_port = true in this [[listen]] or pass "
          "--share-port",
          listener.address.text));
    spdlog::warn("{}: another process already listens on this address; sharing it as "
                 "share_port asks: the kernel splits new connections between the processes "
                 "until one of them stops",
                 listener.address.text);
  }
}

}  // namespace

Server::Server(ServerConfig config)
    : config_([&] {
        config.threads = resolve_threads(config.threads);
        config.limits.max_connections = resolve_max_connections(
            config.limits.max_connections, config.threads, config.listeners.size());
        return std::move(config);
      }()),
      budget_(config_.limits.max_connections, config_.limits.max_connections_per_ip),
      handshake_rate_(config_.limits.max_handshakes_per_second_per_ip,
                      config_.limits.max_handshakes_per_second),
      worker_context_(config_, counters_, budget_, handshake_rate_, peer_log_, rejected_handshakes_,
                      tls_by_listener_, bound_ports_, health_, recently_noted_peers_) {
  add_health_sections();
}

Server::~Server() {
  request_shutdown();
  wait();
}

void Server::start() {
  started_ms_ = monotonic_ms();
  if (config_.routes.size() > kMaxRoutes)
    throw std::runtime_error(fmt::format("{} routes configured; at most {} are served",
                                         config_.routes.size(), kMaxRoutes));
  for (const RouteConfig& route : config_.routes)
    if (!route.service)
      throw std::runtime_error(fmt::format("route {}: kind '{}' has no implementation", route.path,
                                           route.kind));
  // Certificates first: a bad file stops the start with its name and problem.
  tls_contexts_.clear();
  for (const ListenerConfig& listener : config_.listeners) {
    if (!listener.tls) {
      tls_contexts_.push_back(nullptr);
      continue;
    }
    auto context = std::make_unique<tls::TlsContext>(*listener.tls, listener.address.text);
    for (const std::string& summary : context->summaries())
      spdlog::info("TLS listener {}: serving {}", listener.address.text, summary);
    tls_contexts_.push_back(std::move(context));
  }
  tls_by_listener_.clear();
  for (const auto& context : tls_contexts_) tls_by_listener_.push_back(context.get());
  refuse_taken_addresses(config_.listeners);
  for (uint32_t i = 0; i < config_.threads; ++i)
    workers_.push_back(std::make_unique<Worker>(worker_context_, i));
  bound_ports_.clear();
  for (size_t l = 0; l < config_.listeners.size(); ++l) {
    net::ListenAddress where = config_.listeners[l].address;
    uint16_t port = 0;
    for (auto& worker : workers_) {
      int fd = net::open_listener(where, 4096);
      // With port 0 the first bind picks the port; the others must share that one.
      if (port == 0) {
        port = net::bound_port(fd);
        where = net::with_port(where, port);
      }
      worker->reactor().add_listener(fd, uint16_t(l));
    }
    bound_ports_.push_back(port);
    spdlog::info("listening on {} ({}; {} workers share the port through SO_REUSEPORT)",
                 where.text,
                 config_.listeners[l].api ? (config_.listeners[l].tls ? "API, HTTPS" : "API, HTTP")
                 : config_.listeners[l].tls ? "wss, TLS" : "ws",
                 workers_.size());
  }
  if (!workers_.empty()) {
    const Worker& first = *workers_.front();
    if (!first.io_fallback_reason().empty())
      spdlog::warn("io backend: {} (asked for {}, but {})", net::io_backend_name(first.io_backend()),
                   net::io_backend_name(config_.io_backend), first.io_fallback_reason());
    else
      spdlog::info("io backend: {}", net::io_backend_name(first.io_backend()));
  }
  const uint64_t files = net::raise_open_file_limit();
  const uint64_t reserve = descriptor_reserve(config_.threads, config_.listeners.size());
  if (config_.limits.max_connections + reserve > files)
    spdlog::warn("limits.max_connections ({}) is more than the open-file limit ({}) can hold "
                 "after the server's own {} descriptors: accepting will pause on EMFILE when "
                 "descriptors run out; raise the limit (LimitNOFILE=, ulimit -n) or lower "
                 "max_connections",
                 config_.limits.max_connections, files, reserve);
  spdlog::info("capacity: up to {} connections (open-file limit raised to {})",
               config_.limits.max_connections, files);
  for (auto& worker : workers_) threads_.emplace_back([w = worker.get()] { w->run(); });
}

void Server::request_shutdown() {
  for (auto& worker : workers_) worker->reactor().request_shutdown(config_.limits.shutdown_grace_ms);
}

void Server::wait() {
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  threads_.clear();
}

void Server::reload_tls(std::string_view cause) {
  for (auto& context : tls_contexts_) {
    if (!context) continue;
    std::string why;
    if (context->reload(why)) {
      for (const std::string& summary : context->summaries())
        spdlog::info("TLS listener {}: reloaded ({}): new handshakes use {}", context->name(),
                     cause, summary);
    } else {
      std::string old;
      for (const std::string& summary : context->summaries()) old += (old.empty() ? "" : "; ") + summary;
      spdlog::error("TLS listener {}: reload ({}) refused: {}; still serving {}", context->name(),
                    cause, why, old);
    }
  }
}

void Server::reload_changed_tls() {
  for (auto& context : tls_contexts_) {
    if (!context || !context->files_settled_after_change()) continue;
    std::string why;
    if (context->reload(why)) {
      for (const std::string& summary : context->summaries())
        spdlog::info("TLS listener {}: certificate files changed: new handshakes use {}",
                     context->name(), summary);
    } else {
      std::string old;
      for (const std::string& summary : context->summaries()) old += (old.empty() ? "" : "; ") + summary;
      spdlog::error("TLS listener {}: certificate files changed but were refused: {}; still "
                    "serving {}", context->name(), why, old);
    }
  }
}

void Server::add_health_sections() {
  health_.add("version", [] { return fmt::format("\"{}\"", WSHUB_VERSION); });
  health_.add("uptime_ms", [this] { return std::to_string(monotonic_ms() - started_ms_); });
  health_.add("workers", [this] { return std::to_string(workers_.size()); });
  health_.add("connections", [this] { return std::to_string(budget_.open()); });
  health_.add("max_connections", [this] { return std::to_string(config_.limits.max_connections); });
  health_.add("counters", [this] {
    uint64_t accept_pauses = 0;
    for (const auto& worker : workers_)
      accept_pauses += worker->reactor().counters().accept_paused.load(std::memory_order_relaxed);
    return counters_.to_json(accept_pauses);
  });
  health_.add("compression", [this] {
    std::vector<const CompressionCounters*> compression;
    for (const auto& worker : workers_) compression.push_back(&worker->compression_counters());
    return compression_json(compression);
  });
  health_.add("tls", [this] {
    std::string tls = "[";
    for (size_t i = 0; i < tls_contexts_.size(); ++i) {
      if (!tls_contexts_[i]) continue;
      if (tls.size() > 1) tls += ',';
      tls += fmt::format("{{\"listener\":\"{}\",\"counters\":{}}}",
                         config_.listeners[i].address.text, tls_contexts_[i]->counters().to_json());
    }
    return tls + ']';
  });
}

}  // namespace wshub::server
