#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace wshub::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kListeningLine = "listening on ";
constexpr size_t kLogTailInFailures = 8192;

std::string temp_directory() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

// Creates an empty file from `pattern` (ending in XXXXXX then `suffix`), returns its path.
std::string make_temp_file(std::string_view suffix, int& fd) {
  std::string path = temp_directory() + "/wshub-test-XXXXXX" + std::string(suffix);
  fd = mkostemps(path.data(), int(suffix.size()), O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("mkostemps " + path + ": " + std::strerror(errno));
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tail(const std::string& text, size_t size) {
  return text.size() <= size ? text : "[...]\n" + text.substr(text.size() - size);
}

// The port in "listening on 127.0.0.1:40123 (...", or 0 when the line is not there yet.
uint16_t port_from_log(std::string_view log) {
  const size_t at = log.find(kListeningLine);
  if (at == std::string_view::npos) return 0;
  std::string_view address = log.substr(at + kListeningLine.size());
  address = address.substr(0, address.find_first_of(" \n"));
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return 0;
  uint16_t port = 0;
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [end, ec] = std::from_chars(first, last, port);
  return ec == std::errc() && end == last ? port : 0;
}

ExitStatus status_of(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.exited = true;
    status.code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  }
  return status;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (killed_by_us) return "did not stop on SIGTERM and was killed";
  if (exited) return "exited with status " + std::to_string(code);
  return "was killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

std::string wshub_binary_path() {
  if (const char* path = std::getenv("WSHUB_BINARY"); path && *path) return path;
  return WSHUB_TEST_BINARY;
}

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  if (options_.binary.empty()) options_.binary = wshub_binary_path();
  int log_fd = -1;
  log_path_ = make_temp_file(".log", log_fd);
  if (!options_.config_toml.empty()) {
    int config_fd = -1;
    config_path_ = make_temp_file(".toml", config_fd);
    const std::string& text = options_.config_toml;
    const bool written = ::write(config_fd, text.data(), text.size()) == ssize_t(text.size());
    ::close(config_fd);
    if (!written) {
      ::close(log_fd);
      remove_files();
      throw std::runtime_error("cannot write " + config_path_);
    }
  }

  // Everything the child needs is prepared here: between fork and exec only async-signal-safe
  // calls are allowed.
  std::vector<std::string> args = {options_.binary};
  if (!config_path_.empty()) args.insert(args.end(), {"--config", config_path_});
  args.insert(args.end(), {"--listen", "127.0.0.1:0", "--threads", std::to_string(options_.threads)});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ == 0) {
    // A test that crashes must not leave servers behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid_ < 0) {
    remove_files();
    throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
  }

  const Clock::time_point deadline = Clock::now() + options_.start_wait;
  for (;;) {
    const std::string text = log();
    port_ = port_from_log(text);
    if (port_ != 0) return;
    std::string why;
    if (!running()) why = options_.binary + " " + status_.describe() + " before listening";
    else if (Clock::now() > deadline) why = options_.binary + " did not report a listening port";
    if (!why.empty()) {
      stop();
      const std::string full_log = log();
      remove_files();
      throw std::runtime_error(why + "\n--- server log ---\n" + tail(full_log, kLogTailInFailures));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

ServerProcess::~ServerProcess() {
  const ExitStatus status = stop();
  if (!status.clean())
    ADD_FAILURE() << "wshub (pid " << pid_ << ") " << status.describe()
                  << "\n--- server log ---\n" << tail(log(), kLogTailInFailures);
  remove_files();
}

bool ServerProcess::running() {
  if (exited_ || stopped_ || pid_ <= 0) return false;
  int wait_status = 0;
  const pid_t done = ::waitpid(pid_, &wait_status, WNOHANG);
  if (done == 0) return true;
  exited_ = true;
  if (done == pid_) status_ = status_of(wait_status);
  return false;
}

std::string ServerProcess::log() const { return log_path_.empty() ? "" : read_file(log_path_); }

uint64_t ServerProcess::resident_bytes() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

ExitStatus ServerProcess::stop() {
  if (stopped_ || pid_ <= 0) return status_;
  stopped_ = true;
  if (exited_) return status_;
  ::kill(pid_, SIGTERM);
  const Clock::time_point deadline = Clock::now() + options_.stop_wait;
  int wait_status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid_, &wait_status, WNOHANG);
    if (done == pid_) {
      status_ = status_of(wait_status);
      return status_;
    }
    if (done < 0 && errno != EINTR) return status_;
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
  }
  status_ = status_of(wait_status);
  status_.killed_by_us = true;
  return status_;
}

void ServerProcess::remove_files() {
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
  if (!config_path_.empty()) ::unlink(config_path_.c_str());
  log_path_.clear();
  config_path_.clear();
}

}  // namespace wshub::test
