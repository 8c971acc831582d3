// Runs the real wshub binary as a child process for a test: an optional TOML config in a temp
// file, `--listen 127.0.0.1:0 --threads N`, the bound port read from its log, and a clean stop
// by SIGTERM whose exit status the destructor checks (a sanitizer report fails the test).
// Knows nothing about WebSocket; pair it with TestClient.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace wshub::test {

struct ServerOptions {
  std::string config_toml = {};               // written to a temp file, passed as --config
  uint32_t threads = 1;
  std::vector<std::string> extra_args = {};   // after --listen and --threads
  std::string binary = {};                    // empty: wshub_binary_path()
  std::chrono::milliseconds start_wait{30000};  // for the "listening on" line
  std::chrono::milliseconds stop_wait{30000};   // after SIGTERM, before SIGKILL
};

struct ExitStatus {
  bool exited = false;      // exited by itself: `code` holds its status
  int code = -1;
  int signal = 0;           // killed by this signal
  bool killed_by_us = false;  // it ignored SIGTERM for stop_wait and got SIGKILL
  bool clean() const { return exited && code == 0 && !killed_by_us; }
  std::string describe() const;
};

// The wshub binary this build made (set by CMake), unless the WSHUB_BINARY environment
// variable names another one, e.g. to run the same tests against an installed server.
std::string wshub_binary_path();

class ServerProcess {
 public:
  // Starts the server and waits until it listens. Throws std::runtime_error, with the server's
  // log, when it exits or stays silent instead.
  explicit ServerProcess(ServerOptions options = {});
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Stops the server unless stop() already did, and records a GoogleTest failure, with the
  // log, unless it exited with status 0.
  ~ServerProcess();

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // True while the process has not exited.
  bool running();
  // Everything the server wrote to stderr and stdout so far.
  std::string log() const;
  // The server's resident memory (VmRSS), or 0 when it cannot be read.
  uint64_t resident_bytes() const;
  // Sends SIGTERM, waits up to stop_wait (then SIGKILL) and returns how it ended. Later calls
  // return the same status.
  ExitStatus stop();

 private:
  void remove_files();

  ServerOptions options_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
  std::string config_path_;
  bool stopped_ = false;
  bool exited_ = false;  // reaped by running() before stop()
  ExitStatus status_;
};

}  // namespace wshub::test
