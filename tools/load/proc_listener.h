// Does the process given as --server-pid really own the listening socket we load? A shell's
// PID (from `cd dir && server &`) or a stale one makes every server figure silently wrong,
// so wshub-load checks /proc/net/tcp{,6} and /proc/PID/fd before it starts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wshub::load {

// Socket inodes of the LISTEN entries for `port` in the text of /proc/net/tcp or tcp6.
std::vector<uint64_t> parse_listening_inodes(std::string_view proc_net_tcp, uint16_t port);

enum class ListenerCheck : uint8_t { listens, does_not_listen, unknown };

// Whether `pid` holds a listening TCP socket on `port`; `unknown` when /proc could not tell
// (no permission to read another user's fds). `comm` receives the process's name.
ListenerCheck process_listens_on(pid_t pid, uint16_t port, std::string& comm);

}  // namespace wshub::load
