#include "proc_listener.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace wshub::load {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The i-th whitespace-separated field of `line`, or empty.
std::string_view field(std::string_view line, int index) {
  size_t pos = 0;
  for (int i = 0;; ++i) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    if (pos >= line.size()) return {};
    const size_t end = std::min(line.find(' ', pos), line.size());
    if (i == index) return line.substr(pos, end - pos);
    pos = end;
  }
}

}  // namespace

std::vector<uint64_t> parse_listening_inodes(std::string_view text, uint16_t port) {
  // Lines: "sl local_address rem_address st ... uid timeout inode", addresses as HEX:PORT.
  constexpr std::string_view kListen = "0A";
  std::vector<uint64_t> inodes;
  size_t start = text.find('\n');  // skip the header
  while (start != std::string_view::npos && start + 1 < text.size()) {
    const size_t end = text.find('\n', start + 1);
    const std::string_view line = text.substr(start + 1, (end == std::string_view::npos ? text.size() : end) - start - 1);
    start = end;
    const std::string_view local = field(line, 1);
    const size_t colon = local.rfind(':');
    if (colon == std::string_view::npos || field(line, 3) != kListen) continue;
    unsigned local_port = 0;
    const std::string_view port_hex = local.substr(colon + 1);
    if (std::from_chars(port_hex.data(), port_hex.data() + port_hex.size(), local_port, 16).ec != std::errc() ||
        local_port != port)
      continue;
    uint64_t inode = 0;
    const std::string_view inode_text = field(line, 9);
    if (std::from_chars(inode_text.data(), inode_text.data() + inode_text.size(), inode).ec == std::errc() && inode)
      inodes.push_back(inode);
  }
  return inodes;
}

ListenerCheck process_listens_on(pid_t pid, uint16_t port, std::string& comm) {
  const std::string base = "/proc/" + std::to_string(pid);
  comm = read_text(base + "/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  std::vector<uint64_t> inodes = parse_listening_inodes(read_text("/proc/net/tcp"), port);
  const std::vector<uint64_t> v6 = parse_listening_inodes(read_text("/proc/net/tcp6"), port);
  inodes.insert(inodes.end(), v6.begin(), v6.end());
  if (inodes.empty()) return ListenerCheck::unknown;
  DIR* fds = opendir((base + "/fd").c_str());
  if (!fds) return ListenerCheck::unknown;
  ListenerCheck result = ListenerCheck::does_not_listen;
  char target[64];
  while (const dirent* entry = readdir(fds)) {
    const std::string link = base + "/fd/" + entry->d_name;
    const ssize_t length = readlink(link.c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    target[length] = '\0';
    unsigned long long inode = 0;
    if (std::sscanf(target, "socket:[%llu]", &inode) == 1 &&
        std::find(inodes.begin(), inodes.end(), uint64_t(inode)) != inodes.end()) {
      result = ListenerCheck::listens;
      break;
    }
  }
  closedir(fds);
  return result;
}

}  // namespace wshub::load
