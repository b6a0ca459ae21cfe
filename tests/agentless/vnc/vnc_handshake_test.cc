// The viewer side of the RFB handshake, over a socketpair, against a fake
// ticket redeemer: versions 3.3, 3.7 and 3.8, a refused version, random
// bytes, a wrong ticket, a wrong security type, ServerInit.
#include "agentless/vnc/vnc_handshake.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "tests/agentless/vnc/fake_redeemer.h"

namespace portcullis::vnc {
namespace {

using ::portcullis::testing::FakeRedeemer;

constexpr char kTicket[] = "K7Q2MX4P";

class Pair {
 public:
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    broker_ = sv[0];
    viewer_ = sv[1];
    timeval tv{5, 0};
    setsockopt(viewer_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Pair() {
    close(broker_);
    if (viewer_ >= 0) close(viewer_);
  }
  int broker() const { return broker_; }
  void Send(std::string_view b) {
    ASSERT_EQ(write(viewer_, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  }
  std::string Read(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = read(viewer_, out.data() + got, n - got);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }
  void CloseViewer() {
    close(viewer_);
    viewer_ = -1;
  }

 private:
  int broker_ = -1, viewer_ = -1;
};

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string Response(const std::string& challenge, const char* ticket) {
  std::array<uint8_t, 16> b{};
  memcpy(b.data(), challenge.data(), 16);
  char pw[9] = {};
  strncpy(pw, ticket, 8);
  rfbClientEncryptBytes(b.data(), pw);
  return std::string(reinterpret_cast<const char*>(b.data()), 16);
}

session::TicketGrant Grant() {
  session::TicketGrant g;
  g.ticket_id = "t-000000000001";
  g.user = "bob";
  g.target = "hmi-07";
  g.source = "127.0.0.1";
  return g;
}

struct Outcome {
  absl::StatusOr<session::TicketGrant> grant = absl::UnknownError("not run");
  int minor = 0;
};

// Runs ReadTicket on the broker side; then Accept() (or Refuse) + ServerInit.
std::future<Outcome> RunBroker(Pair& p, FakeRedeemer& r, bool accept = true) {
  return std::async(std::launch::async, [&p, &r, accept] {
    ViewerHandshake hs(p.broker(), std::chrono::milliseconds(2000));
    Outcome o;
    o.grant = hs.ReadTicket("127.0.0.1", r);
    o.minor = hs.minor();
    if (o.grant.ok()) {
      if (!accept) {
        hs.Refuse("portcullis: access to hmi-07 denied by policy");
        return o;
      }
      if (auto st = hs.Accept(); !st.ok()) {
        o.grant = st;
        return o;
      }
      ServerInitInfo si;
      si.width = 640;
      si.height = 480;
      si.name = "hmi";
      (void)hs.SendServerInit(si);
    }
    return o;
  });
}

TEST(VncHandshake, ParseVersion) {
  EXPECT_EQ(*ParseViewerVersion("RFB 003.003\n"), 3);
  EXPECT_EQ(*ParseViewerVersion("RFB 003.007\n"), 7);
  EXPECT_EQ(*ParseViewerVersion("RFB 003.008\n"), 8);
  EXPECT_FALSE(ParseViewerVersion("RFB 003.889\n").ok());  // Apple
  EXPECT_FALSE(ParseViewerVersion("RFB 004.001\n").ok());
  EXPECT_FALSE(ParseViewerVersion("RFB 003.008").ok());
  EXPECT_FALSE(ParseViewerVersion("SSH-2.0-Open").ok());
  EXPECT_FALSE(ParseViewerVersion("RFB 00a.008\n").ok());
  EXPECT_EQ(ParseViewerVersion("RFB 003.005\n").status().message(), "unsupported RFB version 003.005");
}

TEST(VncHandshake, SourceAddress) {
  EXPECT_EQ(SourceAddress("127.0.0.1:5555"), "127.0.0.1");
  EXPECT_EQ(SourceAddress("[::1]:5555"), "::1");
}

TEST(VncHandshake, Version38TicketAcceptedThenServerInit) {
  Pair p;
  FakeRedeemer r;
  r.Add(kTicket, Grant());
  auto f = RunBroker(p, r);
  EXPECT_EQ(p.Read(12), "RFB 003.008\n");
  p.Send("RFB 003.008\n");
  EXPECT_EQ(p.Read(2), std::string("\x01\x02", 2));  // only VncAuth, never None
  p.Send(std::string("\x02", 1));
  const std::string challenge = p.Read(16);
  ASSERT_EQ(challenge.size(), 16u);
  p.Send(Response(challenge, kTicket));
  EXPECT_EQ(p.Read(4), U32(0));
  p.Send(std::string("\x01", 1));  // ClientInit, shared
  const std::string si = p.Read(24 + 3);
  ASSERT_EQ(si.size(), 27u);
  EXPECT_EQ(si.substr(0, 4), std::string("\x02\x80\x01\xe0", 4));  // 640x480
  EXPECT_EQ(static_cast<uint8_t>(si[4]), 32);                      // bpp
  EXPECT_EQ(si.substr(20, 7), U32(3) + "hmi");
  Outcome o = f.get();
  ASSERT_TRUE(o.grant.ok()) << o.grant.status();
  EXPECT_EQ(o.grant->user, "bob");
  EXPECT_EQ(o.minor, 8);
  EXPECT_EQ(r.redeemed(), 1);
}

TEST(VncHandshake, Version37) {
  Pair p;
  FakeRedeemer r;
  r.Add(kTicket, Grant());
  auto f = RunBroker(p, r);
  EXPECT_EQ(p.Read(12), "RFB 003.008\n");
  p.Send("RFB 003.007\n");
  EXPECT_EQ(p.Read(2), std::string("\x01\x02", 2));
  p.Send(std::string("\x02", 1));
  const std::string challenge = p.Read(16);
  p.Send(Response(challenge, kTicket));
  EXPECT_EQ(p.Read(4), U32(0));
  p.Send(std::string("\x00", 1));
  EXPECT_EQ(p.Read(24 + 3).size(), 27u);
  Outcome o = f.get();
  ASSERT_TRUE(o.grant.ok()) << o.grant.status();
  EXPECT_EQ(o.minor, 7);
}

TEST(VncHandshake, Version33ServerChoosesVncAuth) {
  Pair p;
  FakeRedeemer r;
  r.Add(kTicket, Grant());
  auto f = RunBroker(p, r);
  EXPECT_EQ(p.Read(12), "RFB 003.008\n");
  p.Send("RFB 003.003\n");
  EXPECT_EQ(p.Read(4), U32(2));  // the server decides: VncAuth
  const std::string challenge = p.Read(16);
  p.Send(Response(challenge, kTicket));
  EXPECT_EQ(p.Read(4), U32(0));
  p.Send(std::string("\x01", 1));
  EXPECT_EQ(p.Read(24 + 3).size(), 27u);
  Outcome o = f.get();
  ASSERT_TRUE(o.grant.ok()) << o.grant.status();
  EXPECT_EQ(o.minor, 3);
}

TEST(VncHandshake, WrongTicketRefusedWithReasonOn38) {
  Pair p;
  FakeRedeemer r;
  r.Add(kTicket, Grant());
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send("RFB 003.008\n");
  p.Read(2);
  p.Send(std::string("\x02", 1));
  const std::string challenge = p.Read(16);
  p.Send(Response(challenge, "WRONG123"));
  EXPECT_EQ(p.Read(4), U32(1));
  const std::string reason(kTicketRefused);
  EXPECT_EQ(p.Read(4 + reason.size()), U32(static_cast<uint32_t>(reason.size())) + reason);
  Outcome o = f.get();
  EXPECT_EQ(o.grant.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.redeemed(), 0);
  EXPECT_EQ(r.refused(), 1);
}

TEST(VncHandshake, WrongTicketOn33GetsNoReason) {
  Pair p;
  FakeRedeemer r;
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send("RFB 003.003\n");
  p.Read(4);
  const std::string challenge = p.Read(16);
  p.Send(Response(challenge, kTicket));  // no ticket pending
  EXPECT_EQ(p.Read(4), U32(1));
  Outcome o = f.get();
  EXPECT_EQ(o.grant.status().code(), absl::StatusCode::kPermissionDenied);
  p.CloseViewer();
}

TEST(VncHandshake, TicketFromAnotherSourceRefused) {
  Pair p;
  FakeRedeemer r;
  session::TicketGrant g = Grant();
  g.source = "10.9.9.9";  // never contacted: only compared
  r.Add(kTicket, g);
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send("RFB 003.008\n");
  p.Read(2);
  p.Send(std::string("\x02", 1));
  p.Send(Response(p.Read(16), kTicket));
  EXPECT_EQ(p.Read(4), U32(1));
  EXPECT_EQ(f.get().grant.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(VncHandshake, UnsupportedVersionRefused) {
  Pair p;
  FakeRedeemer r;
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send("RFB 003.889\n");
  Outcome o = f.get();
  EXPECT_EQ(o.grant.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.grant.status().message(), "unsupported RFB version 003.889");
}

TEST(VncHandshake, RandomBytesRefusedWithoutQuotingThem) {
  Pair p;
  FakeRedeemer r;
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xaa", 12));  // a TLS hello
  Outcome o = f.get();
  EXPECT_EQ(o.grant.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.grant.status().message(), "not an RFB protocol version");
  // Nothing more was offered: the next read sees the broker side's end.
}

TEST(VncHandshake, OtherSecurityTypeRefused) {
  Pair p;
  FakeRedeemer r;
  r.Add(kTicket, Grant());
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send("RFB 003.008\n");
  p.Read(2);
  p.Send(std::string("\x01", 1));  // None: never offered
  EXPECT_EQ(p.Read(4), U32(1));
  Outcome o = f.get();
  EXPECT_EQ(o.grant.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.redeemed(), 0);
}

TEST(VncHandshake, ViewerLeavesMidHandshake) {
  Pair p;
  FakeRedeemer r;
  auto f = RunBroker(p, r);
  p.Read(12);
  p.Send("RFB 0");
  p.CloseViewer();
  EXPECT_EQ(f.get().grant.status().code(), absl::StatusCode::kUnavailable);
}

TEST(VncHandshake, RefusalAfterTicketCarriesTheReason) {
  Pair p;
  FakeRedeemer r;
  r.Add(kTicket, Grant());
  auto f = RunBroker(p, r, /*accept=*/false);
  p.Read(12);
  p.Send("RFB 003.008\n");
  p.Read(2);
  p.Send(std::string("\x02", 1));
  p.Send(Response(p.Read(16), kTicket));
  const std::string reason = "portcullis: access to hmi-07 denied by policy";
  EXPECT_EQ(p.Read(8 + reason.size()), U32(1) + U32(static_cast<uint32_t>(reason.size())) + reason);
  EXPECT_TRUE(f.get().grant.ok());
}

TEST(VncHandshake, ChallengesAreFresh) {
  std::string first;
  for (int i = 0; i < 2; ++i) {
    Pair p;
    FakeRedeemer r;
    auto f = RunBroker(p, r);
    p.Read(12);
    p.Send("RFB 003.008\n");
    p.Read(2);
    p.Send(std::string("\x02", 1));
    const std::string c = p.Read(16);
    ASSERT_EQ(c.size(), 16u);
    if (i == 0) first = c; else EXPECT_NE(c, first);
    p.CloseViewer();
    (void)f.get();
  }
}

}  // namespace
}  // namespace portcullis::vnc
