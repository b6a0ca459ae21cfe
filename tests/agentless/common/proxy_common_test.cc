// The shared listener skeleton, the session mailbox and the abortable
// target connection, against real loopback sockets. Pre-auth deadlines run
// on a FakeClock; no test waits for a real timeout.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "agentless/common/connect_abort.h"
#include "agentless/common/mailbox.h"
#include "agentless/common/proxy_listener.h"

namespace portcullis::agentless {
namespace {

using namespace std::chrono_literals;
using session::EndReason;

// ---------------------------------------------------------------- Mailbox

TEST(MailboxTest, NothingPostedIsEmptyAndNotReadable) {
  Mailbox m;
  ASSERT_TRUE(m.valid());
  EXPECT_TRUE(m.Take().empty());
  pollfd p{m.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
  EXPECT_FALSE(m.end_requested());
}

TEST(MailboxTest, TheFirstEndRequestWinsAndNoticesKeepTheirOrder) {
  Mailbox m;
  m.PostNotice("one");
  m.PostEnd(EndReason::kKilled, "killed by alice");
  m.PostEnd(EndReason::kShutdown, "shutting down");
  m.PostNotice("two");
  EXPECT_TRUE(m.end_requested());
  pollfd p{m.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 0), 1) << "posting makes the mailbox readable";
  m.Drain();
  EXPECT_EQ(poll(&p, 1, 0), 0) << "Drain() clears the readiness";
  Mailbox::Mail mail = m.Take();
  ASSERT_TRUE(mail.end.has_value());
  EXPECT_EQ(mail.end->reason, EndReason::kKilled);
  EXPECT_EQ(mail.end->notice, "killed by alice");
  ASSERT_EQ(mail.notices.size(), 2u);
  EXPECT_EQ(mail.notices[0], "one");
  EXPECT_EQ(mail.notices[1], "two");
  EXPECT_TRUE(m.Take().empty()) << "mail is taken once";
  m.PostEnd(EndReason::kShutdown, "again");
  EXPECT_TRUE(m.Take().empty()) << "a session ends once";
}

TEST(MailboxTest, NoticesAreBoundedOldestDropped) {
  Mailbox m;
  for (size_t i = 0; i < Mailbox::kMaxNotices + 10; ++i) m.PostNotice(std::to_string(i));
  Mailbox::Mail mail = m.Take();
  ASSERT_EQ(mail.notices.size(), Mailbox::kMaxNotices);
  EXPECT_EQ(mail.notices.front(), "10");
  EXPECT_EQ(mail.notices.back(), std::to_string(Mailbox::kMaxNotices + 9));
}

TEST(MailboxTest, PostsFromManyThreadsAllArrive) {
  Mailbox m;
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kEach; ++i) m.PostNotice(std::to_string(t * 100 + i));
    });
  }
  std::set<std::string> seen;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (seen.size() < kThreads * kEach && std::chrono::steady_clock::now() < deadline) {
    pollfd p{m.fd(), POLLIN, 0};
    poll(&p, 1, 100);
    m.Drain();
    for (auto& n : m.Take().notices) seen.insert(n);
  }
  for (auto& th : threads) th.join();
  for (auto& n : m.Take().notices) seen.insert(n);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
}

// ------------------------------------------------------------ ProxyListener

int ConnectTo(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// True iff the peer closed `fd` (EOF or reset) within `wait`.
bool ClosedWithin(int fd, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return true;
  }
}

// A protocol connection for the tests: says "hi\n", then echoes lines; a
// line "auth" authenticates it; a line "connect" makes it connect to the
// test's mute target and wait for its greeting (that never comes) until
// Shutdown() aborts the connection.
struct Probe {
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0, destroyed = 0, shutdowns = 0;
  std::set<std::thread::id> run_threads, destroy_threads;
  uint16_t mute_port = 0;
  bool connecting = false;
};

class TestConnection final : public ListenedConnection {
 public:
  TestConnection(UniqueFd fd, std::function<void()> authenticated, Probe* probe)
      : fd_(std::move(fd)), authenticated_(std::move(authenticated)), probe_(probe) {}
  ~TestConnection() override {
    std::lock_guard<std::mutex> lock(probe_->mu);
    ++probe_->destroyed;
    probe_->destroy_threads.insert(std::this_thread::get_id());
    probe_->cv.notify_all();
  }
  void Run() override {
    {
      std::lock_guard<std::mutex> lock(probe_->mu);
      ++probe_->runs;
      probe_->run_threads.insert(std::this_thread::get_id());
      probe_->cv.notify_all();
    }
    (void)!write(fd_.get(), "hi\n", 3);
    std::string line;
    char c;
    while (read(fd_.get(), &c, 1) == 1) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line == "auth") {
        authenticated_();
        (void)!write(fd_.get(), "ok\n", 3);
      } else if (line == "connect") {
        ConnectToMuteTarget();
        return;
      }
      line.clear();
    }
  }
  void AbortUnauthenticated() override { shutdown(fd_.get(), SHUT_RDWR); }
  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(probe_->mu);
      ++probe_->shutdowns;
    }
    abort_.Abort();
    shutdown(fd_.get(), SHUT_RDWR);
  }

 private:
  void ConnectToMuteTarget() {
    auto t = TcpConnect("127.0.0.1", probe_->mute_port, 30s, &abort_);
    if (!t.ok()) return;
    UniqueFd target(*t);
    abort_.Register(target.get());
    {
      std::lock_guard<std::mutex> lock(probe_->mu);
      probe_->connecting = true;
      probe_->cv.notify_all();
    }
    // The target's greeting never comes; only an abort ends the wait.
    pollfd p[2] = {{target.get(), POLLIN, 0}, {abort_.wake_fd(), POLLIN, 0}};
    poll(p, 2, 30'000);
    abort_.Unregister();
  }

  UniqueFd fd_;
  std::function<void()> authenticated_;
  Probe* probe_;
  ConnectAbort abort_;
};

class ProxyListenerTest : public ::testing::Test {
 protected:
  void StartListener(ListenerOptions opts) {
    opts.name = "test";
    opts.host = "127.0.0.1";
    opts.port = 0;
    listener_ = std::make_unique<ProxyListener>(
        opts, &clock_, [this](UniqueFd fd, const std::string& source, std::function<void()> hook) {
          EXPECT_EQ(source.rfind("127.0.0.1:", 0), 0u) << source;
          return std::make_unique<TestConnection>(std::move(fd), std::move(hook), &probe_);
        });
    ASSERT_TRUE(listener_->Start().ok());
    ASSERT_NE(listener_->port(), 0);
  }
  // A client that has seen the connection's greeting.
  int Client() {
    int fd = ConnectTo(listener_->port());
    EXPECT_GE(fd, 0);
    char buf[3];
    EXPECT_EQ(read(fd, buf, 3), 3);
    return fd;
  }
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds wait = 5s) {
    std::unique_lock<std::mutex> lock(probe_.mu);
    return probe_.cv.wait_for(lock, wait, pred);
  }
  void TearDown() override {
    if (listener_) listener_->Stop();
    for (int fd : clients_) close(fd);
  }

  FakeClock clock_;
  Probe probe_;
  std::unique_ptr<ProxyListener> listener_;
  std::vector<int> clients_;
};

TEST_F(ProxyListenerTest, RunsEachConnectionOnItsOwnThreadAndJoinsIt) {
  StartListener({});
  for (int i = 0; i < 3; ++i) clients_.push_back(Client());
  EXPECT_EQ(listener_->live(), 3);
  EXPECT_EQ(listener_->unauthenticated(), 3);
  for (int fd : clients_) close(fd);
  clients_.clear();
  ASSERT_TRUE(WaitFor([&] { return probe_.destroyed == 3; }));
  {
    std::lock_guard<std::mutex> lock(probe_.mu);
    EXPECT_EQ(probe_.run_threads.size(), 3u);
    // Each connection is destroyed on the thread that ran it.
    EXPECT_EQ(probe_.run_threads, probe_.destroy_threads);
  }
  for (int i = 0; i < 50 && listener_->live() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(listener_->live(), 0);
  EXPECT_EQ(listener_->unauthenticated(), 0);
}

TEST_F(ProxyListenerTest, RefusesBeyondTheUnauthenticatedLimit) {
  ListenerOptions opts;
  opts.max_unauthenticated = 2;
  StartListener(opts);
  clients_.push_back(Client());
  clients_.push_back(Client());
  int third = ConnectTo(listener_->port());
  ASSERT_GE(third, 0);
  EXPECT_TRUE(ClosedWithin(third, 2s)) << "the third pre-auth connection is closed at once";
  close(third);
  // Once one authenticates, a new one fits.
  ASSERT_EQ(write(clients_[0], "auth\n", 5), 5);
  char buf[3];
  ASSERT_EQ(read(clients_[0], buf, 3), 3);
  EXPECT_EQ(listener_->unauthenticated(), 1);
  clients_.push_back(Client());
  EXPECT_EQ(listener_->live(), 3);
}

TEST_F(ProxyListenerTest, RefusesBeyondTheConnectionLimit) {
  ListenerOptions opts;
  opts.max_connections = 1;
  StartListener(opts);
  clients_.push_back(Client());
  ASSERT_EQ(write(clients_[0], "auth\n", 5), 5);
  char buf[3];
  ASSERT_EQ(read(clients_[0], buf, 3), 3);
  int second = ConnectTo(listener_->port());
  EXPECT_TRUE(ClosedWithin(second, 2s));
  close(second);
}

TEST_F(ProxyListenerTest, ReaperClosesConnectionsPastTheirAuthDeadlineOnly) {
  ListenerOptions opts;
  opts.auth_timeout = 60s;
  opts.reap_interval = 10ms;
  StartListener(opts);
  int slow = Client();
  int authed = Client();
  clients_ = {slow, authed};
  ASSERT_EQ(write(authed, "auth\n", 5), 5);
  char buf[3];
  ASSERT_EQ(read(authed, buf, 3), 3);
  EXPECT_FALSE(ClosedWithin(slow, 100ms)) << "not before the deadline";
  clock_.Advance(61s);
  EXPECT_TRUE(ClosedWithin(slow, 2s)) << "past the deadline, the reaper closes it";
  EXPECT_FALSE(ClosedWithin(authed, 200ms)) << "an authenticated connection stays";
  ASSERT_TRUE(WaitFor([&] { return probe_.destroyed == 1; }));
}

TEST_F(ProxyListenerTest, StopEndsAConnectionStuckConnectingToAMuteTargetAtOnce) {
  // A target that accepts TCP (the kernel's backlog) but never speaks.
  int mute = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(mute, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(mute, 8), 0);
  socklen_t len = sizeof a;
  getsockname(mute, reinterpret_cast<sockaddr*>(&a), &len);
  probe_.mute_port = ntohs(a.sin_port);

  StartListener({});
  int idle = Client();
  int stuck = Client();
  clients_ = {idle, stuck};
  ASSERT_EQ(write(stuck, "auth\nconnect\n", 13), 13);
  ASSERT_TRUE(WaitFor([&] { return probe_.connecting; }));

  const auto t0 = std::chrono::steady_clock::now();
  listener_->Stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 1s) << "took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  std::lock_guard<std::mutex> lock(probe_.mu);
  EXPECT_EQ(probe_.destroyed, 2) << "Stop() returns once every connection is gone";
  EXPECT_EQ(probe_.shutdowns, 2);
  EXPECT_EQ(listener_->live(), 0);
  close(mute);
}

TEST_F(ProxyListenerTest, AFactoryThatDeclinesClosesTheSocket) {
  listener_ = std::make_unique<ProxyListener>(
      ListenerOptions{"test", "127.0.0.1", 0}, &clock_,
      [](UniqueFd, const std::string&, std::function<void()>) {
        return std::unique_ptr<ListenedConnection>();
      });
  ASSERT_TRUE(listener_->Start().ok());
  int fd = ConnectTo(listener_->port());
  EXPECT_TRUE(ClosedWithin(fd, 2s));
  close(fd);
  for (int i = 0; i < 100 && listener_->live() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(listener_->live(), 0);
  EXPECT_EQ(listener_->unauthenticated(), 0);
}

TEST_F(ProxyListenerTest, AnAddressInUseIsAClearError) {
  StartListener({});
  ProxyListener second({"test", "127.0.0.1", listener_->port()}, &clock_,
                       [](UniqueFd, const std::string&, std::function<void()>) {
                         return std::unique_ptr<ListenedConnection>();
                       });
  auto st = second.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(st.message()).find("cannot listen on 127.0.0.1:"), std::string::npos)
      << st.message();
}

TEST(TcpConnectTest, AnAbortedConnectIsCancelledAndARefusedOneSaysWhy) {
  ConnectAbort abort;
  abort.Abort();
  auto r = TcpConnect("127.0.0.1", 1, 5s, &abort);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  // A port nothing listens on: refused at once, with the reason.
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);  // bound, never listened, now free: nothing answers there
  auto refused = TcpConnect("127.0.0.1", ntohs(a.sin_port), 5s, nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(refused.status().message()).find("refused"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace portcullis::agentless
