#include "proc_listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wshub::load {
namespace {

// From a Linux 6.1 /proc/net/tcp: a listener on 127.0.0.1:8077 (0x1F8D), one connection.
constexpr const char* kProcNetTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:1F8D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:1F8D 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 123999 1 0000000000000000 20 4 30 10 -1\n"
    "   2: 0100007F:1F8E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n";

TEST(ProcListener, FindsListeningInodesForThePort) {
  const std::vector<uint64_t> inodes = parse_listening_inodes(kProcNetTcp, 8077);
  ASSERT_EQ(inodes.size(), 1u);
  EXPECT_EQ(inodes[0], 123456u);
  EXPECT_TRUE(parse_listening_inodes(kProcNetTcp, 9).empty());
  EXPECT_TRUE(parse_listening_inodes("", 8077).empty());
}

TEST(ProcListener, ThisProcessListensAfterListen) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const uint16_t port = ntohs(address.sin_port);
  std::string comm;
  ASSERT_EQ(listen(fd, 1), 0);
  EXPECT_EQ(process_listens_on(getpid(), port, comm), ListenerCheck::listens);
  EXPECT_FALSE(comm.empty());
  EXPECT_EQ(process_listens_on(getppid(), port, comm), ListenerCheck::does_not_listen);
  close(fd);
}

}  // namespace
}  // namespace wshub::load
