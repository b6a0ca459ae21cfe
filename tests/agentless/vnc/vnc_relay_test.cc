// The VNC access path end to end, in process: a VncListener on 127.0.0.1
// with the broker's real admission, vault, session registry and audit log
// (an in-process broker), a fake ticket redeemer (until the ticket store is
// wired) and a fake graphical recorder (until the recording format is),
// against a real Xtigervnc with xlogo / xev on its display, and a
// libvncclient viewer.
//
// Oracles: the viewer's framebuffer through the broker hashes the same as a
// direct connection's, for each encoding; the recorder's framebuffer equals
// what the viewer saw; keys reach the target (xev prints them); refusals
// carry their reason in the 3.8 SecurityResult and leave audit rows.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <functional>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fmt/format.h>

#include "agentless/vnc/vnc_listener.h"
#include "broker/core/target_vault.h"
#include "recorder/graphical/graphical_reader.h"
#include "recorder/verifier.h"
#include "tests/agentless/vnc/fake_graphical_recorder.h"
#include "tests/agentless/vnc/fake_redeemer.h"
#include "tests/agentless/vnc/vnc_test_env.h"
#include "tests/agentless/vnc/xvnc_fixture.h"
#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kHmiPassword[] = "hmi-pass";

constexpr char kRoles[] = R"yaml(
kind: role
name: viewer
allow:
  targets: {site: a}
  protocols: [vnc]
)yaml";

constexpr char kWatcherRole[] = R"yaml(
kind: role
name: watcher
allow:
  targets: {site: a}
  protocols: [vnc]
options:
  view_only: true
)yaml";

constexpr char kClipboardRole[] = R"yaml(
kind: role
name: clip
allow:
  targets: {site: a}
  protocols: [vnc]
options:
  clipboard: to_target
)yaml";

constexpr char kFromTargetRole[] = R"yaml(
kind: role
name: fromhmi
allow:
  targets: {site: a}
  protocols: [vnc]
options:
  clipboard: from_target
)yaml";

constexpr char kLimitedRole[] = R"yaml(
kind: role
name: limited
allow:
  targets: {site: a}
  protocols: [vnc]
options:
  max_session: 1h
)yaml";

// True once the peer closed `fd` (or within `d` not).
bool ClosedWithin(int fd, std::chrono::milliseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  char buf[256];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) return true;
    }
  }
  return false;
}


// A scripted RFB server on 127.0.0.1 (the target side): VncAuth accepted
// whatever the response, a 64x32 32-bit ServerInit, then `after` runs on
// the socket. One connection; joined at destruction.
class FakeRfbServer {
 public:
  explicit FakeRfbServer(std::function<void(int fd)> after) : after_(std::move(after)) {
    lfd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(lfd_, 1);
    socklen_t len = sizeof a;
    getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeRfbServer() {
    shutdown(lfd_, SHUT_RDWR);
    thread_.join();
    close(lfd_);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    pollfd p{lfd_, POLLIN, 0};
    if (poll(&p, 1, 20000) <= 0) return;
    int fd = accept(lfd_, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[16];
    const std::string si = std::string("\x00\x40\x00\x20", 4) +
                           std::string("\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00", 16) +
                           std::string("\x00\x00\x00\x04", 4) + "fake";
    if (write(fd, "RFB 003.008\n", 12) == 12 && ReadN(fd, buf, 12) &&
        write(fd, "\x01\x02", 2) == 2 && ReadN(fd, buf, 1) &&
        write(fd, "0123456789abcdef", 16) == 16 && ReadN(fd, buf, 16) &&
        write(fd, "\x00\x00\x00\x00", 4) == 4 && ReadN(fd, buf, 1) &&
        write(fd, si.data(), si.size()) == static_cast<ssize_t>(si.size())) {
      after_(fd);
    }
    close(fd);
  }
  std::function<void(int)> after_;
  int lfd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

class VncRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!XvncFixture::Available())
      GTEST_SKIP() << "Xtigervnc / tigervncpasswd not installed (.ci/deps.sh installs "
                      "tigervnc-standalone-server and tigervnc-tools)";
    ASSERT_TRUE(env_.ok()) << env_.init_status();
    XvncOptions xo;
    xo.password = kHmiPassword;
    xvnc_ = std::make_unique<XvncFixture>(xo);
    ASSERT_TRUE(xvnc_->Start().ok()) << xvnc_->log();
    ASSERT_TRUE(xvnc_->StartClient({"/usr/bin/xlogo", "-geometry", "300x200+20+20"}, "xlogo.log")
                    .ok());
    auto& b = env_.broker();
    ASSERT_TRUE(b.roles().PutAll({store::RoleRecord{"viewer", kRoles, 0},
                                  store::RoleRecord{"limited", kLimitedRole, 0},
                                  store::RoleRecord{"watcher", kWatcherRole, 0},
                                  store::RoleRecord{"clip", kClipboardRole, 0},
                                  store::RoleRecord{"fromhmi", kFromTargetRole, 0}}).ok());
    b.role_table().Invalidate();
    const int closed_port = PickFreePort();
    struct T {
      const char* name;
      std::string address;
      const char* site;
      const char* secret;
    };
    const std::string here = "127.0.0.1:" + std::to_string(xvnc_->port());
    for (const T& t : {T{"hmi-07", here, "a", kHmiPassword}, T{"hmi-b", here, "b", kHmiPassword},
                       T{"hmi-down", "127.0.0.1:" + std::to_string(closed_port), "a", kHmiPassword},
                       T{"hmi-wrong", here, "a", "not-it"}, T{"hmi-novault", here, "a", ""}}) {
      store::TargetRecord r;
      r.name = t.name;
      r.address = t.address;
      r.protocol = "vnc";
      r.crypto_profile = "legacy";  // in the clear (vnc_tls_test covers VeNCrypt)
      r.auth = "password";
      r.labels = {{"site", t.site}};
      ASSERT_TRUE(AddVncTarget(env_, r, t.secret).ok()) << t.name;
    }
    services_ = VncListenerServices(env_, &redeemer_, &recorders_);
    listener_ = std::make_unique<vnc::VncListener>(services_);
    ASSERT_TRUE(listener_->Start().ok());
  }

  void TearDown() override {
    if (listener_) listener_->Stop();
  }

  // Another password target at `port` on 127.0.0.1.
  void AddTarget(const std::string& name, int port, const std::string& password = "whatever") {
    store::TargetRecord r;
    r.name = name;
    r.address = "127.0.0.1:" + std::to_string(port);
    r.protocol = "vnc";
    r.crypto_profile = "legacy";  // in the clear (vnc_tls_test covers VeNCrypt)
    r.auth = "password";
    r.labels = {{"site", "a"}};
    ASSERT_TRUE(AddVncTarget(env_, r, password).ok());
  }

  std::string Ticket(const std::string& target, const std::string& source = "127.0.0.1",
                     std::vector<std::string> roles = {"viewer"}) {
    static int serial = 0;  // tickets differ across tests too
    const std::string t = "T" + std::to_string(1000000 + ++serial);
    ++tickets_;
    session::TicketGrant g;
    g.ticket_id = fmt::format("t-{:012d}", tickets_);
    g.user = "bob";
    g.roles = std::move(roles);
    g.target = target;
    g.source = source;
    redeemer_.Add(t, g);
    return t;
  }

  std::vector<audit::AuditEvent> Rows(const std::string& prefix) {
    audit::AuditFilter f;
    f.type_prefix = prefix;
    f.newest = false;
    auto rows = env_.broker().audit().List(f);
    std::vector<audit::AuditEvent> out;
    if (rows.ok())
      for (auto& r : *rows) out.push_back(r.event);
    return out;
  }

  // Waits until an audit row of `type` exists (the session thread writes it).
  std::optional<audit::AuditEvent> WaitRow(const std::string& type, std::chrono::milliseconds d = 10s) {
    return WaitAuditRow(env_, type, d);
  }

  // A direct connection's framebuffer hash once the screen is stable.
  std::string DirectHash(const std::string& encodings) {
    const std::string h = SettledDirectHash(xvnc_->port(), kHmiPassword, encodings);
    EXPECT_FALSE(h.empty()) << "no direct view";
    return h;
  }

  BrokerEnv env_;
  FakeRedeemer redeemer_;
  int tickets_ = 0;
  FakeRecorderFactory recorders_;
  std::unique_ptr<XvncFixture> xvnc_;
  vnc::VncServices services_;
  std::unique_ptr<vnc::VncListener> listener_;
};

TEST_F(VncRelayTest, FramebufferThroughTheBrokerEqualsDirectForEachEncoding) {
  for (const std::string enc : {"raw", "copyrect hextile raw", "zrle raw", "tight raw"}) {
    SCOPED_TRACE(enc);
    const std::string direct = DirectHash(enc);
    ASSERT_FALSE(direct.empty());
    ViewerClient v;
    ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), enc).ok());
    EXPECT_EQ(v.width(), 640);
    EXPECT_EQ(v.height(), 480);
    EXPECT_EQ(v.Hash(), direct);
    ASSERT_TRUE(v.Refresh().ok());
    EXPECT_EQ(v.Hash(), direct);
    v.Pump(200ms);
    // The recording saw exactly what the viewer saw.
    auto rec = recorders_.last();
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->Fb().size(), v.Bgrx().size());
    std::string fb = rec->Fb();
    for (size_t i = 3; i < fb.size(); i += 4) fb[i] = 0;
    EXPECT_TRUE(fb == v.Bgrx()) << "the recorder's framebuffer differs from the viewer's";
    EXPECT_EQ(rec->info.protocol, "vnc");
    EXPECT_EQ(rec->info.target, "hmi-07");
  }
}

TEST_F(VncRelayTest, SessionIsListedAuditedAndEnds) {
  auto v = std::make_unique<ViewerClient>();
  const std::string ticket = Ticket("hmi-07");
  ASSERT_TRUE(v->Connect(listener_->port(), ticket, "raw").ok());
  auto list = env_.broker().sessions().List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].info.protocol, "vnc");
  EXPECT_EQ(list[0].info.user, "bob");
  EXPECT_EQ(list[0].info.target, "hmi-07");
  EXPECT_EQ(list[0].info.role, "viewer");
  EXPECT_GT(list[0].bytes_down, 0u);
  auto start = WaitRow("session.start");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->outcome, "success");
  EXPECT_EQ(start->actor, "bob");
  EXPECT_EQ(start->details["auth"], "ticket");
  EXPECT_EQ(start->details["ticket"], "t-000000000001");
  const std::string id = list[0].info.id;
  // The ticket appears in no audit row.
  for (auto& e : Rows("")) EXPECT_EQ(e.details.dump().find(ticket), std::string::npos) << e.type;
  // A ticket is used once.
  RawResult again = RawHandshake(listener_->port(), ticket);
  EXPECT_EQ(again.result, 1u);
  EXPECT_EQ(again.reason, "portcullis: ticket refused");
  v.reset();  // the viewer disconnects
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "client-closed");
  EXPECT_EQ(end->details["session"], id);
  EXPECT_GT(end->details["bytes_down"].get<int64_t>(), 640 * 480 * 4 - 1);
  auto rec = recorders_.last();
  ASSERT_NE(rec, nullptr);
  for (int i = 0; i < 100 && !rec->closed; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(rec->closed);
  EXPECT_EQ(rec->closed_reason, "client-closed");
}

TEST_F(VncRelayTest, KeysAndPointerReachTheTargetAndAreRecorded) {
  ASSERT_TRUE(xvnc_->StartClient({"/usr/bin/xev", "-geometry", "600x440+0+0"}, "xev.log").ok());
  std::this_thread::sleep_for(700ms);
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  ASSERT_TRUE(v.SendPointer(300, 200, 0));
  v.Pump(200ms);
  for (uint32_t k : {0x71u /* q */, 0x77u /* w */}) {
    ASSERT_TRUE(v.SendKey(k, true));
    ASSERT_TRUE(v.SendKey(k, false));
  }
  v.Pump(500ms);
  std::string log;
  for (int i = 0; i < 50; ++i) {
    log = xvnc_->ClientLog("xev.log");
    if (log.find("(keysym 0x77, w)") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(log.find("(keysym 0x71, q)"), std::string::npos) << log.substr(0, 2000);
  EXPECT_NE(log.find("(keysym 0x77, w)"), std::string::npos);
  auto rec = recorders_.last();
  ASSERT_NE(rec, nullptr);
  std::lock_guard<std::mutex> l(rec->mu);
  EXPECT_EQ(rec->keys, 4);
  EXPECT_EQ(rec->keysyms, (std::vector<uint32_t>{0x71, 0x77}));
  EXPECT_GE(rec->pointers, 1);
}

TEST_F(VncRelayTest, ClipboardFromTheViewerIsDroppedByDefaultAndAudited) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  ASSERT_TRUE(v.SendCutText("setpoint 42"));
  ASSERT_TRUE(v.Pump(300ms));
  auto row = WaitRow("vnc.clipboard");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->outcome, "denied");
  EXPECT_EQ(row->details["bytes"], 11);
  EXPECT_EQ(row->details.dump().find("setpoint"), std::string::npos);
  EXPECT_EQ(recorders_.last()->clipboards, 0);
  EXPECT_TRUE(v.connected());
}

TEST_F(VncRelayTest, KillEndsTheSession) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  auto list = env_.broker().sessions().List();
  ASSERT_EQ(list.size(), 1u);
  ASSERT_TRUE(env_.broker().sessions().Kill(list[0].info.id, "killed by an admin").ok());
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) gone = !v.Pump(100ms);
  EXPECT_TRUE(gone);
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "killed");
  EXPECT_EQ(recorders_.last()->closed_reason, "killed");
}

TEST_F(VncRelayTest, RecordingFailureEndsTheSession) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  recorders_.last()->fail = true;
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) gone = !v.Pump(100ms);
  EXPECT_TRUE(gone);
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "recording-failed");
}

TEST_F(VncRelayTest, NoRecorderNoSession) {
  recorders_.set_refuse(true);
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-07"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason, "portcullis: the session cannot be recorded; refused");
  EXPECT_TRUE(WaitRow("session.refused"));
}

TEST_F(VncRelayTest, WrongTicketRefused) {
  Ticket("hmi-07");
  RawResult r = RawHandshake(listener_->port(), "NOTVALID");
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason, "portcullis: ticket refused");
  EXPECT_EQ(redeemer_.refused(), 1);
  EXPECT_TRUE(env_.broker().sessions().List().empty());
}

TEST_F(VncRelayTest, TicketFromAnotherAddressRefused) {
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-07", "127.0.0.2"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason, "portcullis: ticket refused");
}

TEST_F(VncRelayTest, PolicyDenialIsRefusedWithItsReason) {
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-b"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason.rfind("portcullis: access to hmi-b denied by policy", 0), 0u) << r.reason;
  auto d = WaitRow("policy.decision");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->outcome, "denied");
  auto start = WaitRow("session.start");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->outcome, "denied");
}

TEST_F(VncRelayTest, UnreachableTargetIsRefusedAndAudited) {
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-down"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason.rfind("portcullis: ", 0), 0u) << r.reason;
  EXPECT_NE(r.reason.find("refused"), std::string::npos) << r.reason;
  auto f = WaitRow("session.target_failed");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->subject, "hmi-down");
}

TEST_F(VncRelayTest, WrongVaultedPasswordIsOneClearLine) {
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-wrong"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason, "portcullis: the broker could not log in to hmi-wrong");
  auto f = WaitRow("session.target_failed");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->details["auth"], "password");
  // Neither password appears in the audit log.
  for (auto& e : Rows("")) {
    EXPECT_EQ(e.details.dump().find("not-it"), std::string::npos) << e.type;
    EXPECT_EQ(e.details.dump().find(kHmiPassword), std::string::npos) << e.type;
  }
}

TEST_F(VncRelayTest, NoVaultedPasswordIsRefused) {
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-novault"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason.rfind("portcullis: ", 0), 0u) << r.reason;
  EXPECT_TRUE(WaitRow("session.target_failed"));
}

TEST_F(VncRelayTest, RandomBytesInsteadOfAVersionAreRefusedAndAudited) {
  int fd = ConnectLoopback(listener_->port());
  ASSERT_GE(fd, 0);
  char ver[12];
  ASSERT_TRUE(ReadN(fd, ver, 12));
  EXPECT_EQ(std::string(ver, 12), "RFB 003.008\n");
  ASSERT_EQ(write(fd, "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00", 12), 12);
  EXPECT_TRUE(ClosedWithin(fd, 5s));
  close(fd);
  auto row = WaitRow("vnc.handshake_failed");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->details["error"], "not an RFB protocol version");
}

TEST_F(VncRelayTest, AViewerThatStallsInTheHandshakeIsReaped) {
  int fd = ConnectLoopback(listener_->port());
  ASSERT_GE(fd, 0);
  char ver[12];
  ASSERT_TRUE(ReadN(fd, ver, 12));
  ASSERT_EQ(write(fd, "RFB 003.008\n", 12), 12);
  // Sends nothing more. Before the pre-auth deadline it stays open ...
  EXPECT_FALSE(ClosedWithin(fd, 1500ms));
  env_.clock().Advance(31s);
  // ... after it the reaper closes it.
  EXPECT_TRUE(ClosedWithin(fd, 5s));
  close(fd);
  EXPECT_TRUE(WaitRow("vnc.handshake_failed"));
  for (int i = 0; i < 100 && listener_->live() > 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(listener_->live(), 0);
}

TEST_F(VncRelayTest, ShutdownEndsLiveSessions) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  listener_->Stop();
  EXPECT_FALSE(v.Pump(500ms));
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "shutdown");
}


TEST_F(VncRelayTest, MalformedUpdateFromTheTargetEndsOnlyThatSession) {
  FakeRfbServer target([](int fd) {
    char buf[4096];
    (void)read(fd, buf, sizeof buf);  // the viewer's first messages
    // A FramebufferUpdate with one rectangle in an encoding nobody asked for.
    const std::string bad = std::string("\x00\x00\x00\x01", 4) +
                            std::string("\x00\x00\x00\x00\x00\x10\x00\x10", 8) +
                            std::string("\x7f\x00\x00\x01", 4) + std::string(64, 'x');
    (void)!write(fd, bad.data(), bad.size());
    (void)read(fd, buf, sizeof buf);
  });
  AddTarget("hmi-bad", target.port());
  ViewerClient v;
  EXPECT_FALSE(v.Connect(listener_->port(), Ticket("hmi-bad"), "raw", 5s).ok());
  auto err = WaitRow("vnc.protocol_error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->details["from"], "target");
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "error");
  // The listener goes on: a good session still works.
  ViewerClient ok;
  EXPECT_TRUE(ok.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
}

TEST_F(VncRelayTest, TargetDyingMidSessionEndsTheSession) {
  FakeRfbServer target([](int fd) {
    char buf[4096];
    (void)read(fd, buf, sizeof buf);
    // A valid 64x32 raw update, then the target goes away.
    std::string up = std::string("\x00\x00\x00\x01", 4) +
                     std::string("\x00\x00\x00\x00\x00\x40\x00\x20", 8) +
                     std::string("\x00\x00\x00\x00", 4) + std::string(64 * 32 * 4, '\x7f');
    (void)!write(fd, up.data(), up.size());
    std::this_thread::sleep_for(300ms);
  });
  AddTarget("hmi-dies", target.port());
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-dies"), "raw").ok());
  EXPECT_EQ(v.width(), 64);
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) gone = !v.Pump(100ms);
  EXPECT_TRUE(gone);
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "target-closed");
}

// Raw RFB after a ticket: the viewer's handshake, then `after` on the socket.
int ViewerAfterHandshake(int port, const std::string& ticket) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64];
  std::array<uint8_t, 16> ch{};
  char pw[9] = {};
  strncpy(pw, ticket.c_str(), 8);
  uint8_t res[4], si[24];
  if (!ReadN(fd, buf, 12) || write(fd, "RFB 003.008\n", 12) != 12 || !ReadN(fd, buf, 2) ||
      write(fd, "\x02", 1) != 1 || !ReadN(fd, ch.data(), 16)) {
    close(fd);
    return -1;
  }
  rfbClientEncryptBytes(ch.data(), pw);
  if (write(fd, ch.data(), 16) != 16 || !ReadN(fd, res, 4) || res[3] != 0 ||
      write(fd, "\x01", 1) != 1 || !ReadN(fd, si, 24)) {
    close(fd);
    return -1;
  }
  const uint32_t n = (uint32_t{si[20]} << 24) | (uint32_t{si[21]} << 16) | (uint32_t{si[22]} << 8) | si[23];
  std::string name(n, '\0');
  if (!ReadN(fd, name.data(), n)) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(VncRelayTest, UnknownViewerMessageEndsTheSession) {
  int fd = ViewerAfterHandshake(listener_->port(), Ticket("hmi-07"));
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "\xfe\x00\x00\x00", 4), 4);  // not on the allow-list
  EXPECT_TRUE(ClosedWithin(fd, 5s));
  close(fd);
  auto err = WaitRow("vnc.protocol_error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->details["from"], "viewer");
  EXPECT_EQ(WaitRow("session.end")->details["reason"], "error");
}

TEST_F(VncRelayTest, TenThousandEncodingsEndTheSession) {
  int fd = ViewerAfterHandshake(listener_->port(), Ticket("hmi-07"));
  ASSERT_GE(fd, 0);
  std::string m = std::string("\x02\x00\x27\x10", 4);  // SetEncodings, 10000 entries
  for (int i = 0; i < 10000; ++i) m += std::string("\x00\x00\x00\x00", 4);
  (void)!write(fd, m.data(), m.size());
  EXPECT_TRUE(ClosedWithin(fd, 5s));
  close(fd);
  auto err = WaitRow("vnc.protocol_error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->details["from"], "viewer");
}

TEST_F(VncRelayTest, HugeClipboardEndsOnlyThatSession) {
  int fd = ViewerAfterHandshake(listener_->port(), Ticket("hmi-07"));
  ASSERT_GE(fd, 0);
  // ClientCutText announcing 1 GiB: refused from its header.
  ASSERT_EQ(write(fd, "\x06\x00\x00\x00\x40\x00\x00\x00", 8), 8);
  EXPECT_TRUE(ClosedWithin(fd, 5s));
  close(fd);
  EXPECT_TRUE(WaitRow("vnc.protocol_error"));
}

TEST_F(VncRelayTest, ColourMapPixelFormatIsRefused) {
  int fd = ViewerAfterHandshake(listener_->port(), Ticket("hmi-07"));
  ASSERT_GE(fd, 0);
  // SetPixelFormat: 8 bpp, depth 8, colour map.
  const std::string m = std::string("\x00\x00\x00\x00", 4) +
                        std::string("\x08\x08\x00\x00\x00\x07\x00\x07\x00\x03\x00\x03\x06\x00\x00\x00", 16);
  ASSERT_EQ(write(fd, m.data(), m.size()), 20);
  EXPECT_TRUE(ClosedWithin(fd, 5s));
  close(fd);
  auto err = WaitRow("vnc.protocol_error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->details["from"], "viewer");
}

TEST_F(VncRelayTest, SixteenBitPixelFormatThroughTheBrokerEqualsDirect) {
  ViewerClient direct(16);
  ASSERT_TRUE(direct.Connect(xvnc_->port(), kHmiPassword, "raw").ok());
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(direct.Refresh().ok());
  ViewerClient v(16);
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "hextile raw").ok());
  ASSERT_TRUE(direct.Refresh().ok());
  EXPECT_EQ(v.Hash(), direct.Hash());
  // The recording is kept at 32 bits whatever the viewer chose: it matches
  // a 32-bit direct view up to the 16-bit quantisation.
  ViewerClient full;
  ASSERT_TRUE(full.Connect(xvnc_->port(), kHmiPassword, "raw").ok());
  v.Pump(200ms);
  const std::string rec = recorders_.last()->Fb();
  const std::string ref = full.Bgrx();
  ASSERT_EQ(rec.size(), ref.size());
  size_t off = 0;
  for (size_t i = 0; i < rec.size(); ++i) {
    if (i % 4 == 3) continue;
    const int d = std::abs(static_cast<int>(static_cast<uint8_t>(rec[i])) -
                           static_cast<int>(static_cast<uint8_t>(ref[i])));
    if (d > 8) ++off;
  }
  EXPECT_EQ(off, 0u);
}

TEST_F(VncRelayTest, VncsnapshotThroughTheBrokerEqualsDirect) {
  if (access("/usr/bin/vncsnapshot", X_OK) != 0)
    GTEST_SKIP() << "vncsnapshot not installed (.ci/deps.sh installs it)";
  TempDir dir("pc-vncsnap");
  auto passwd_file = [&](const std::string& name, const std::string& pw) {
    auto r = RunCommand({"tigervncpasswd", "-f"}, pw + "\n");
    EXPECT_EQ(r.exit_code, 0);
    std::ofstream(dir.Join(name), std::ios::binary) << r.out;
    return dir.Join(name);
  };
  auto snap = [&](int port, const std::string& pwfile, const std::string& out) {
    // vncsnapshot 1.2a waits forever for a "whole screen" rectangle unless
    // it is given one.
    return RunCommand({"vncsnapshot", "-allowblank", "-nocursor", "-encodings", "hextile raw", "-rect",
                       "640x480+0+0", "-quiet", "-passwd", pwfile,
                       "127.0.0.1::" + std::to_string(port), dir.Join(out)},
                      "", 30s);
  };
  // Direct snapshots until two agree (the screen has settled).
  std::string prev;
  for (int i = 0; i < 10; ++i) {
    auto d = snap(xvnc_->port(), passwd_file("direct", kHmiPassword), "direct.jpg");
    ASSERT_EQ(d.exit_code, 0) << d.err;
    auto j = ReadWholeFile(dir.Join("direct.jpg"));
    ASSERT_TRUE(j.ok());
    if (*j == prev) break;
    prev = *j;
    std::this_thread::sleep_for(200ms);
  }
  auto b = snap(listener_->port(), passwd_file("ticket", Ticket("hmi-07")), "broker.jpg");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto dj = ReadWholeFile(dir.Join("direct.jpg"));
  auto bj = ReadWholeFile(dir.Join("broker.jpg"));
  ASSERT_TRUE(dj.ok() && bj.ok());
  EXPECT_GT(dj->size(), 1000u);
  // Same framebuffer in, same encoder: the same JPEG bytes.
  EXPECT_TRUE(*dj == *bj) << "the snapshots differ";
  auto start = WaitRow("session.start");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->outcome, "success");
}


// Smoke test with a stock viewer: TigerVNC's viewer on its own Xvfb display
// authenticates with the ticket through the broker and stays connected,
// receiving the screen, until the session is ended.
TEST_F(VncRelayTest, TigerVncViewerConnectsThroughTheBroker) {
  if (access("/usr/bin/xtigervncviewer", X_OK) != 0)
    GTEST_SKIP() << "xtigervncviewer not installed (.ci/deps.sh installs tigervnc-viewer)";
  if (!XvncFixture::X11vncAvailable())
    GTEST_SKIP() << "Xvfb not installed (.ci/deps.sh installs it)";
  XvncOptions o;
  o.password = kHmiPassword;
  o.x11vnc = true;  // only its Xvfb display is used: the viewer's window goes there
  XvncFixture screen(o);
  ASSERT_TRUE(screen.Start().ok()) << screen.log();
  TempDir dir("pc-vncviewer");
  auto pw = RunCommand({"tigervncpasswd", "-f"}, Ticket("hmi-07") + "\n");
  ASSERT_EQ(pw.exit_code, 0);
  std::ofstream(dir.Join("ticket"), std::ios::binary) << pw.out;
  auto viewer = screen.StartClient({"/usr/bin/xtigervncviewer", "-passwd", dir.Join("ticket"),
                                    "-AlertOnFatalError=0", "-ReconnectOnError=0",
                                    "127.0.0.1::" + std::to_string(listener_->port())},
                                   "viewer.log");
  ASSERT_TRUE(viewer.ok()) << viewer.status();
  auto start = WaitRow("session.start");
  ASSERT_TRUE(start) << screen.ClientLog("viewer.log");
  EXPECT_EQ(start->outcome, "success");
  // Connected and fed: the session stays listed, the viewer asked for
  // updates and the screen came down (compressed: a few kilobytes).
  bool fed = false;
  for (int i = 0; i < 100 && !fed; ++i) {
    std::this_thread::sleep_for(100ms);
    auto list = env_.broker().sessions().List();
    fed = list.size() == 1 && list[0].bytes_down > 1000 && list[0].bytes_up > 0;
  }
  EXPECT_TRUE(fed) << "the viewer did not receive the screen through the broker: "
                   << screen.ClientLog("viewer.log");
  EXPECT_EQ(env_.broker().sessions().EndUserSessions("bob", session::EndReason::kUserDisabled,
                                                     "portcullis: your account was disabled"),
            1);
  auto end = WaitRow("session.end");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->details["reason"], "user-disabled");
}

TEST_F(VncRelayTest, MaxSessionEndsTheSession) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07", "127.0.0.1", {"limited"}), "raw").ok());
  auto list = env_.broker().sessions().List();
  ASSERT_EQ(list.size(), 1u);
  ASSERT_TRUE(list[0].info.deadline.has_value());
  env_.clock().Advance(61min);
  env_.broker().sessions().Tick();
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) gone = !v.Pump(100ms);
  EXPECT_TRUE(gone);
  EXPECT_EQ(WaitRow("session.end")->details["reason"], "max-session");
}

TEST_F(VncRelayTest, DisablingTheUserEndsTheSession) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  EXPECT_EQ(env_.broker().sessions().EndUserSessions("bob", session::EndReason::kUserDisabled,
                                                     "portcullis: your account was disabled"),
            1);
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) gone = !v.Pump(100ms);
  EXPECT_TRUE(gone);
  EXPECT_EQ(WaitRow("session.end")->details["reason"], "user-disabled");
}

TEST_F(VncRelayTest, X11vncThroughTheBrokerEqualsDirect) {
  if (!XvncFixture::X11vncAvailable())
    GTEST_SKIP() << "x11vnc / Xvfb not installed (.ci/deps.sh installs them)";
  XvncOptions o;
  o.password = kHmiPassword;
  o.x11vnc = true;
  XvncFixture x(o);
  ASSERT_TRUE(x.Start().ok()) << x.log();
  ASSERT_TRUE(x.StartClient({"/usr/bin/xlogo", "-geometry", "200x150+100+60"}, "xlogo.log").ok());
  AddTarget("hmi-x11", x.port(), kHmiPassword);
  for (const std::string enc : {"raw", "hextile raw", "zrle raw", "tight raw"}) {
    SCOPED_TRACE(enc);
    ViewerClient direct;
    ASSERT_TRUE(direct.Connect(x.port(), kHmiPassword, enc).ok());
    std::string h;
    for (int i = 0; i < 20; ++i) {
      std::this_thread::sleep_for(200ms);
      ASSERT_TRUE(direct.Refresh().ok());
      if (direct.Hash() == h) break;
      h = direct.Hash();
    }
    ViewerClient v;
    ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-x11"), enc).ok());
    // x11vnc polls the X screen in tiles, and on a loaded machine xlogo may
    // appear only after the direct picture looked settled: refresh both
    // until they agree (a relay that alters pixels never agrees).
    ASSERT_TRUE(v.Refresh().ok());
    for (int i = 0; i < 30 && v.Hash() != h; ++i) {
      std::this_thread::sleep_for(200ms);
      ASSERT_TRUE(direct.Refresh().ok());
      h = direct.Hash();
      ASSERT_TRUE(v.Refresh().ok());
    }
    EXPECT_EQ(v.Hash(), h);
    v.Pump(200ms);
    std::string fb = recorders_.last()->Fb();
    for (size_t i = 3; i < fb.size(); i += 4) fb[i] = 0;
    EXPECT_TRUE(fb == v.Bgrx()) << "the recorder's framebuffer differs from the viewer's";
  }
}


TEST_F(VncRelayTest, TheBrokersGraphicalRecordingReplaysWhatTheViewerSawAndVerifies) {
  // The broker's own recorder factory (sealed .pgr recordings).
  vnc::VncServices s = services_;
  s.session.recorders = &env_.broker().recorders();
  vnc::VncListener real(s);
  ASSERT_TRUE(real.Start().ok());
  std::string seen;
  {
    ViewerClient v;
    ASSERT_TRUE(v.Connect(real.port(), Ticket("hmi-07"), "zrle raw").ok());
    ASSERT_TRUE(v.SendKey(0x61, true));
    ASSERT_TRUE(v.SendKey(0x61, false));
    ASSERT_TRUE(v.Refresh().ok());
    v.Pump(300ms);
    seen = v.Bgrx();
  }
  ASSERT_TRUE(WaitRow("session.end"));
  real.Stop();
  std::string path;
  for (int i = 0; i < 100 && path.empty(); ++i) {
    for (auto& e : std::filesystem::recursive_directory_iterator(env_.broker().config().RecordingsDir()))
      if (e.path().extension() == ".pgr") path = e.path().string();
    if (path.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(path.empty()) << "no .pgr recording was written";
  recorder::VerifyRequest vr;
  vr.recording_path = path;
  vr.public_key_raw = env_.broker().recording_signer().RecordingPublicKey();
  recorder::VerifyReport rep;
  for (int i = 0; i < 100; ++i) {  // the manifest is written at close, off the session thread
    rep = recorder::VerifyRecording(vr);
    if (rep.verdict == recorder::Verdict::kValid) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(rep.verdict, recorder::Verdict::kValid) << rep.message;
  auto reader = recorder::GraphicalReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  recorder::VideoFrame f;
  std::string last;
  for (;;) {
    auto more = (*reader)->Next(&f);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    last.clear();
    for (int y = 0; y < f.height; ++y) last.append(reinterpret_cast<const char*>(f.bgra + y * f.stride), f.width * 4);
  }
  ASSERT_EQ(f.width, 640);
  for (size_t i = 3; i < last.size(); i += 4) last[i] = 0;
  EXPECT_TRUE(last == seen) << "the recording's last picture differs from the viewer's screen";
  bool key = false;
  for (const auto& e : (*reader)->input_events())
    key |= e.kind == recorder::GraphicalInputEvent::Kind::kKey;
  EXPECT_TRUE(key);
}


TEST_F(VncRelayTest, ViewOnlyDropsKeysAndPointerAndAuditsTheBurstOnce) {
  ASSERT_TRUE(xvnc_->StartClient({"/usr/bin/xev", "-geometry", "600x440+0+0"}, "xev.log").ok());
  std::this_thread::sleep_for(700ms);
  {
    // The screen is seen as usual.
    ViewerClient v;
    ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07", "127.0.0.1", {"watcher"}), "raw").ok());
    const std::string before = xvnc_->ClientLog("xev.log");
    ASSERT_TRUE(v.SendPointer(300, 200, 0));
    ASSERT_TRUE(v.SendPointer(310, 210, 1));
    ASSERT_TRUE(v.SendPointer(310, 210, 0));
    for (uint32_t k : {0x71u, 0x77u}) {
      ASSERT_TRUE(v.SendKey(k, true));
      ASSERT_TRUE(v.SendKey(k, false));
    }
    ASSERT_TRUE(v.Pump(1000ms));
    EXPECT_TRUE(v.connected());
    const std::string after = xvnc_->ClientLog("xev.log");
    const std::string added = after.substr(std::min(before.size(), after.size()));
    EXPECT_EQ(added.find("KeyPress"), std::string::npos) << added.substr(0, 1000);
    EXPECT_EQ(added.find("ButtonPress"), std::string::npos);
    EXPECT_EQ(added.find("MotionNotify"), std::string::npos);
    auto rec = recorders_.last();
    std::lock_guard<std::mutex> l(rec->mu);
    EXPECT_EQ(rec->keys, 0);
    EXPECT_EQ(rec->pointers, 0);
  }
  // One row for the whole burst (written when it ends or the session does).
  auto row = WaitRow("vnc.input_dropped");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->details["keys"], 4);
  EXPECT_EQ(row->details["pointer"], 3);
  EXPECT_EQ(Rows("vnc.input_dropped").size(), 1u);
  // The same keys from a role that may type do reach the target.
  ViewerClient typer;
  ASSERT_TRUE(typer.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  ASSERT_TRUE(typer.SendPointer(300, 200, 0));
  ASSERT_TRUE(typer.SendKey(0x71, true));
  ASSERT_TRUE(typer.SendKey(0x71, false));
  std::string log;
  for (int i = 0; i < 50 && log.find("KeyPress") == std::string::npos; ++i) {
    typer.Pump(100ms);
    log = xvnc_->ClientLog("xev.log");
  }
  EXPECT_NE(log.find("KeyPress"), std::string::npos);
}

TEST_F(VncRelayTest, ClipboardAllowedByTheRoleIsForwardedAndAuditedByHash) {
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07", "127.0.0.1", {"clip"}), "raw").ok());
  ASSERT_TRUE(v.SendCutText("setpoint 42"));
  ASSERT_TRUE(v.Pump(300ms));
  auto row = WaitRow("vnc.clipboard");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->outcome, "forwarded");
  EXPECT_EQ(row->details["bytes"], 11);
  // sha256("setpoint 42")
  EXPECT_EQ(row->details["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(row->details.dump().find("setpoint"), std::string::npos);
  EXPECT_EQ(recorders_.last()->clipboards, 1);
}

TEST_F(VncRelayTest, TargetWithoutAuthentication) {
  XvncFixture none;  // -SecurityTypes None
  ASSERT_TRUE(none.Start().ok()) << none.log();
  store::TargetRecord r;
  r.name = "hmi-open";
  r.address = "127.0.0.1:" + std::to_string(none.port());
  r.protocol = "vnc";
  r.crypto_profile = "legacy";  // in the clear (vnc_tls_test covers VeNCrypt)
  r.auth = "none";
  r.labels = {{"site", "a"}};
  ASSERT_TRUE(env_.broker().targets().Create(r).ok());
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-open"), "raw").ok());
  EXPECT_EQ(v.width(), 640);
  // A target marked auth none whose server wants a password is refused.
  store::TargetRecord p;
  p.name = "hmi-notopen";
  p.address = "127.0.0.1:" + std::to_string(xvnc_->port());
  p.protocol = "vnc";
  p.crypto_profile = "legacy";
  p.auth = "none";
  p.labels = {{"site", "a"}};
  ASSERT_TRUE(env_.broker().targets().Create(p).ok());
  RawResult r2 = RawHandshake(listener_->port(), Ticket("hmi-notopen"));
  EXPECT_EQ(r2.result, 1u);
  EXPECT_EQ(r2.reason.rfind("portcullis: ", 0), 0u) << r2.reason;
}

// The HMI's desktop changes size (xrandr on its display): the viewer
// through the broker follows (DesktopSize), the recording is resized, and
// the picture at the new size equals a direct view's.
TEST_F(VncRelayTest, ADesktopResizeOnTheTargetReachesTheViewerAndTheRecording) {
  if (RunCommand({"sh", "-c", "command -v xrandr"}).exit_code != 0)
    GTEST_SKIP() << "xrandr not installed (.ci/deps.sh installs x11-xserver-utils)";
  for (const std::string enc : {"hextile raw", "zrle raw"}) {
    SCOPED_TRACE(enc);
    ViewerClient v;
    ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-07"), enc).ok());
    const int w0 = v.width(), h0 = v.height();
    const std::string size = w0 == 800 ? "640x480" : "800x600";
    const int w1 = w0 == 800 ? 640 : 800, h1 = w0 == 800 ? 480 : 600;
    const std::string display = ":" + std::to_string(xvnc_->display());
    CommandResult r = RunCommand({"xrandr", "-d", display, "-s", size});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int i = 0; i < 50 && v.width() != w1; ++i) {
      (void)v.Refresh(2s);
      v.Pump(100ms);
    }
    ASSERT_EQ(v.width(), w1);
    ASSERT_EQ(v.height(), h1);
    const std::string direct = DirectHash(enc);
    std::string through;
    for (int i = 0; i < 20 && through != direct; ++i) {
      ASSERT_TRUE(v.Refresh().ok());
      through = v.Hash();
    }
    EXPECT_EQ(through, direct);
    v.Pump(200ms);
    auto rec = recorders_.last();
    EXPECT_EQ(rec->width, w1);
    EXPECT_EQ(rec->height, h1);
    EXPECT_GE(rec->resizes, 2);  // the first size, then the new one
    std::string fb = rec->Fb();
    for (size_t i = 3; i < fb.size(); i += 4) fb[i] = 0;
    EXPECT_TRUE(fb == v.Bgrx()) << "the recorder's framebuffer differs from the viewer's";
    (void)h0;
  }
}

// Text copied on the HMI (xclip on its display; Xtigervnc sends it to its
// viewers as ServerCutText) reaches a viewer through the broker only when
// the role's clipboard is from_target or both; otherwise the relay cuts the
// message out (audited once, by hash) and the session goes on.
TEST_F(VncRelayTest, TheHmisClipboardReachesTheViewerOnlyWhenTheRoleAllowsIt) {
  if (RunCommand({"xclip", "-version"}).exit_code != 0)
    GTEST_SKIP() << "xclip not installed (.ci/deps.sh installs it)";
  TempDir dir;
  {
    std::ofstream(dir.Join("clip.txt")) << "setpoint 73.5";
  }
  ViewerClient denied, allowed;
  ASSERT_TRUE(denied.Connect(listener_->port(), Ticket("hmi-07"), "raw").ok());
  ASSERT_TRUE(
      allowed.Connect(listener_->port(), Ticket("hmi-07", "127.0.0.1", {"fromhmi"}), "raw").ok());
  // xclip stays in the background to serve the selection; stopped by PID
  // with the fixture.
  ASSERT_TRUE(xvnc_
                  ->StartClient({"/usr/bin/xclip", "-selection", "clipboard", "-loops", "10",
                                 dir.Join("clip.txt")},
                                "xclip.log")
                  .ok());
  for (int i = 0; i < 100 && allowed.received_cut_text().empty(); ++i) {
    allowed.Pump(50ms);
    denied.Pump(50ms);
  }
  EXPECT_EQ(allowed.received_cut_text(), "setpoint 73.5");
  denied.Pump(300ms);
  EXPECT_EQ(denied.received_cut_text(), "");
  EXPECT_TRUE(denied.connected());
  ASSERT_TRUE(denied.Refresh().ok());  // the stream around the cut is intact
  auto row = WaitRow("vnc.clipboard");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->outcome, "denied");
  EXPECT_EQ(row->details["direction"], "to-viewer");
  EXPECT_EQ(row->details.dump().find("setpoint"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::testing
