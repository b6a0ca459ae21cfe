// CloseTargetSession closes the target socket exactly once. libssh closes
// a socket it was handed when a write on it fails, also the one in the
// flush before SSH_MSG_DISCONNECT (a target that stopped reading and then
// went away); closing that number again would close whatever descriptor
// another thread opened under it meanwhile.
//
// The test counts close(2) calls on the session's socket number by
// interposing close() in this test binary (libssh calls it through the
// PLT), against a real dropbear on 127.0.0.1.

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agentless/ssh/libssh_handles.h"
#include "agentless/ssh/target_connector.h"
#include "tests/support/dropbear_fixture.h"

namespace {

std::atomic<int> g_watched{-1};
std::atomic<int> g_closes{0};

}  // namespace

extern "C" int close(int fd) {
  using CloseFn = int (*)(int);
  static const CloseFn real = reinterpret_cast<CloseFn>(dlsym(RTLD_NEXT, "close"));
  if (fd >= 0 && fd == g_watched.load()) g_closes.fetch_add(1);
  return real(fd);
}

namespace portcullis::ssh {
namespace {

int TcpTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Key-exchanged (not authenticated) session on `fd`, handed to libssh as
// ConnectTarget does.
SshSessionPtr Connected(int fd) {
  EnsureLibsshInitialised();
  SshSessionPtr s(ssh_new());
  const int no = 0;
  socket_t sock = fd;
  if (!s || ssh_options_set(s.get(), SSH_OPTIONS_HOST, "127.0.0.1") != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_FD, &sock) != SSH_OK || ssh_connect(s.get()) != SSH_OK)
    return nullptr;
  return s;
}

// The per-connection children of dropbear's listener `parent`.
std::vector<pid_t> Children(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    // pid (comm) state ppid ...
    const auto rp = line.rfind(')');
    if (rp == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + rp + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
      out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

class TargetCloseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::DropbearFixture::Available()) GTEST_SKIP() << "needs root and dropbear";
    ASSERT_TRUE(dropbear_.Start().ok()) << dropbear_.log();
  }
  void TearDown() override {
    g_watched = -1;
    for (pid_t c : children_) ::kill(c, SIGKILL);
  }
  testing::DropbearFixture dropbear_;
  std::vector<pid_t> children_;
};

TEST_F(TargetCloseTest, HealthyConnectionIsClosedOnce) {
  const int fd = TcpTo(dropbear_.port());
  ASSERT_GE(fd, 0);
  SshSessionPtr s = Connected(fd);
  ASSERT_TRUE(s);
  ASSERT_TRUE(ssh_is_connected(s.get()));
  g_closes = 0;
  g_watched = fd;
  CloseTargetSession(s, 1000);
  EXPECT_FALSE(s);
  EXPECT_EQ(g_closes.load(), 1);
}

TEST_F(TargetCloseTest, SocketThatBreaksDuringTheFlushIsClosedOnce) {
  const int fd = TcpTo(dropbear_.port());
  ASSERT_GE(fd, 0);
  SshSessionPtr s = Connected(fd);
  ASSERT_TRUE(s);
  // The target stops reading: what the broker sends stays queued in libssh.
  children_ = Children(dropbear_.pid());
  ASSERT_FALSE(children_.empty());
  for (pid_t c : children_) ASSERT_EQ(::kill(c, SIGSTOP), 0);
  // libssh made the socket blocking once connected; the filler must stay
  // queued in libssh instead.
  ssh_set_blocking(s.get(), 0);
  ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
  const std::string filler(64 * 1024, 'x');
  for (int i = 0; i < 256 && ssh_is_connected(s.get()); ++i)
    ASSERT_EQ(ssh_send_ignore(s.get(), filler.c_str()), SSH_OK);
  ASSERT_TRUE(ssh_is_connected(s.get()));
  // Then the connection breaks: the flush's next write fails and libssh
  // closes the socket itself.
  const int dup = ::dup(fd);
  ASSERT_GE(dup, 0);
  ::shutdown(dup, SHUT_RDWR);
  ::close(dup);
  g_closes = 0;
  g_watched = fd;
  CloseTargetSession(s, 1000);
  EXPECT_FALSE(s);
  EXPECT_EQ(g_closes.load(), 1) << "the target socket was closed more than once";
}

}  // namespace
}  // namespace portcullis::ssh
