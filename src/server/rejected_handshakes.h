// The last rejected handshakes, for the admin page: when, from whom, the reason's name, the
// request line and the sentence the peer was answered with. A bounded ring of fixed-size
// entries (about 45 KiB; the ring never allocates), filled where a rejection is counted and
// logged; the log line is rate-limited, this ring is not, so the newest rejections are here.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

namespace wshub::server {

struct RejectedHandshake {
  int64_t time_ms = 0;   // wall clock, ms since the Unix epoch
  uint16_t status = 0;   // the HTTP status answered (0: none, the connection was cut)
  char peer[64] = {};    // "client via proxy" as describe_peer writes it
  char reason[40] = {};  // the error's name: missing_upgrade, tls_client_hello, not_found, ...
  char request[136] = {};   // "GET /path", cut short
  char sentence[640] = {};  // the diagnosis (the longest, naming nginx lines, is ~520 bytes)
};

class RejectedHandshakes {
 public:
  static constexpr size_t kCapacity = 50;

  // Any thread. Texts longer than their field are cut; bytes outside printable ASCII become
  // '?', so an entry is always safe to show and to write as JSON.
  void record(int64_t time_ms, uint16_t status, std::string_view peer, std::string_view reason,
              std::string_view request, std::string_view sentence);

  // Any thread: the entries held, newest first, and how many were ever recorded.
  std::vector<RejectedHandshake> newest_first() const;
  uint64_t total() const;

 private:
  // Rejections are rare next to messages and a record is a few hundred bytes of copying, so a
  // mutex held for that long is cheaper than anything cleverer; readers copy under it too.
  mutable std::mutex mutex_;
  std::array<RejectedHandshake, kCapacity> ring_{};
  uint64_t recorded_ = 0;
};

}  // namespace wshub::server
