// TicketStore: the ticket rules (once, ttl, source, per-source eviction,
// wrong responses, rate limit), the constant-time compare, and that no
// audit row carries a ticket. VncAuth responses are made the way a viewer
// makes them (VncAuthResponse, checked against libvncserver in
// vnc_des_test).
#include "broker/core/ticket_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "broker/audit/event_catalogue.h"
#include "broker/common/vnc_des.h"

namespace portcullis::core {
namespace {

using std::chrono::seconds;

// Keeps every event; each must match the catalogue.
class MemoryAudit final : public audit::AuditWriter {
 public:
  absl::StatusOr<int64_t> Append(const audit::AuditEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail) return absl::UnavailableError("disk full");
    auto st = audit::ValidateEvent(e);
    EXPECT_TRUE(st.ok()) << st;
    events.push_back(e);
    return static_cast<int64_t>(events.size());
  }
  std::vector<audit::AuditEvent> Of(const std::string& type) {
    std::vector<audit::AuditEvent> out;
    for (const auto& e : events)
      if (e.type == type) out.push_back(e);
    return out;
  }
  std::string AllJson() const {
    std::string out;
    for (const auto& e : events)
      out += e.type + " " + e.actor + " " + e.subject + " " + e.source + " " + e.details.dump() + "\n";
    return out;
  }
  bool fail = false;
  std::vector<audit::AuditEvent> events;

 private:
  std::mutex mu_;
};

std::atomic<int> g_compares{0};
bool CountingEqual(std::string_view a, std::string_view b) {
  ++g_compares;
  return ConstantTimeEquals(a, b);
}

VncChallenge Challenge(uint8_t seed) {
  VncChallenge c{};
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(seed * 31 + i * 7);
  return c;
}

VncChallenge Answer(std::string_view ticket, const VncChallenge& c) {
  auto r = VncAuthResponse(ticket, c);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : VncChallenge{};
}

class TicketStoreTest : public ::testing::Test {
 protected:
  TicketRequest Req(const std::string& source = "127.0.0.1", const std::string& target = "hmi-07") {
    TicketRequest r;
    r.user = "bob";
    r.roles = {"hmi-ops"};
    r.target = target;
    r.protocol = policy::Protocol::kVnc;
    r.source = source;
    r.decision.allowed = true;
    r.decision.role = "hmi-ops";
    r.decision.view_only = true;
    return r;
  }
  std::string IssueTicket(const TicketRequest& r, std::string* id = nullptr) {
    auto t = store_.Issue(r);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return "";
    if (id) *id = t->grant.ticket_id;
    return std::string(t->ticket.Reveal());
  }
  absl::StatusOr<session::TicketGrant> Redeem(const std::string& source, const std::string& ticket,
                                              uint8_t seed = 1) {
    const VncChallenge c = Challenge(seed);
    return store_.RedeemVncAuth(source, c, Answer(ticket, c));
  }
  std::string LastRefusal() {
    auto r = audit_.Of("ticket.refused");
    return r.empty() ? "" : r.back().details.value("reason", "");
  }

  FakeClock clock_;
  MemoryAudit audit_;
  TicketStore store_{&audit_, &clock_, TicketPolicy{}, &CountingEqual};
};

TEST_F(TicketStoreTest, VncTicketsAreEightUnambiguousCharacters) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string t = IssueTicket(Req("10.0.0." + std::to_string(i)));
    ASSERT_EQ(t.size(), kVncTicketLength);
    for (char c : t) {
      EXPECT_NE(kTicketAlphabet.find(c), std::string_view::npos) << c;
      EXPECT_EQ(std::string_view("01IO").find(c), std::string_view::npos) << c;
    }
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(kTicketAlphabet.size(), 32u);  // 5 bits a character, 40 bits a ticket
  auto rdp = Req("10.1.0.1");
  rdp.protocol = policy::Protocol::kRdp;
  rdp.login = "maint";
  auto t = store_.Issue(rdp);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ticket.size(), kLongTicketLength);
}

TEST_F(TicketStoreTest, RedeemsOnceWithItsGrant) {
  std::string id;
  const std::string t = IssueTicket(Req(), &id);
  auto g = Redeem("127.0.0.1", t);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->ticket_id, id);
  EXPECT_EQ(g->user, "bob");
  EXPECT_EQ(g->roles, std::vector<std::string>{"hmi-ops"});
  EXPECT_EQ(g->target, "hmi-07");
  EXPECT_EQ(g->login, "");
  EXPECT_EQ(g->protocol, policy::Protocol::kVnc);
  EXPECT_EQ(g->source, "127.0.0.1");
  EXPECT_EQ(g->expires - g->issued, seconds(120));
  EXPECT_TRUE(g->decision.view_only);
  EXPECT_EQ(g->decision.role, "hmi-ops");
  ASSERT_EQ(audit_.Of("ticket.redeemed").size(), 1u);
  EXPECT_EQ(audit_.Of("ticket.redeemed")[0].details["ticket_id"], id);

  auto again = Redeem("127.0.0.1", t, 2);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(again.status().message(), "portcullis: ticket refused");
  EXPECT_EQ(LastRefusal(), "reused");
  EXPECT_EQ(audit_.Of("ticket.refused").back().details["ticket_id"], id);
}

TEST_F(TicketStoreTest, ExpiresAfterTtl) {
  const std::string t = IssueTicket(Req());
  clock_.Advance(seconds(119));
  EXPECT_EQ(store_.Pending("127.0.0.1"), 1u);
  clock_.Advance(seconds(1));
  EXPECT_EQ(store_.Pending("127.0.0.1"), 0u);
  auto g = Redeem("127.0.0.1", t);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(LastRefusal(), "expired");
  // Long after, it is forgotten: simply no match.
  clock_.Advance(seconds(600));
  EXPECT_FALSE(Redeem("127.0.0.1", t).ok());
  EXPECT_EQ(LastRefusal(), "no match");
}

TEST_F(TicketStoreTest, OnlyFromItsSourceAndVoidOnceSeenElsewhere) {
  const std::string t = IssueTicket(Req("10.0.0.5"));
  auto g = Redeem("10.0.0.6", t);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(LastRefusal(), "wrong source");
  EXPECT_EQ(audit_.Of("ticket.refused").back().source, "10.0.0.6");
  // It leaked: the rightful source cannot use it either now.
  EXPECT_FALSE(Redeem("10.0.0.5", t).ok());
  EXPECT_EQ(store_.Pending("10.0.0.5"), 0u);
}

TEST_F(TicketStoreTest, AWrongResponseIsNoMatchAndConsumesNothing) {
  const std::string t = IssueTicket(Req());
  const VncChallenge c = Challenge(9);
  VncChallenge wrong = Answer(t, c);
  wrong[15] ^= 1;
  EXPECT_FALSE(store_.RedeemVncAuth("127.0.0.1", c, wrong).ok());
  EXPECT_EQ(LastRefusal(), "no match");
  EXPECT_FALSE(Redeem("127.0.0.1", "ZZZZZZZZ").ok());
  EXPECT_EQ(LastRefusal(), "no match");
  // An answer to another challenge does not replay.
  EXPECT_FALSE(store_.RedeemVncAuth("127.0.0.1", Challenge(10), Answer(t, c)).ok());
  EXPECT_TRUE(Redeem("127.0.0.1", t).ok());
}

TEST_F(TicketStoreTest, AFourthPendingTicketEvictsTheOldest) {
  std::string id1, id2, id3, id4;
  const std::string t1 = IssueTicket(Req(), &id1);
  const std::string t2 = IssueTicket(Req(), &id2);
  const std::string t3 = IssueTicket(Req(), &id3);
  EXPECT_EQ(store_.Pending("127.0.0.1"), 3u);
  auto fourth = store_.Issue(Req());
  ASSERT_TRUE(fourth.ok());
  id4 = fourth->grant.ticket_id;
  EXPECT_EQ(fourth->evicted_ticket_id, id1);
  EXPECT_EQ(store_.Pending("127.0.0.1"), 3u);
  EXPECT_EQ(audit_.Of("ticket.issued").back().details["evicted"], id1);
  EXPECT_FALSE(Redeem("127.0.0.1", t1).ok());
  EXPECT_EQ(LastRefusal(), "no match");
  // Other sources are not affected.
  EXPECT_TRUE(store_.Issue(Req("127.0.0.2")).ok());
  EXPECT_EQ(store_.Pending("127.0.0.1"), 3u);
  // Any of the three pending ones works (VncAuth names no ticket).
  EXPECT_TRUE(Redeem("127.0.0.1", t3).ok());
  EXPECT_TRUE(Redeem("127.0.0.1", t2).ok());
  EXPECT_TRUE(Redeem("127.0.0.1", std::string(fourth->ticket.Reveal())).ok());
}

TEST_F(TicketStoreTest, RefusalsAreRateLimitedPerSource) {
  const std::string t = IssueTicket(Req());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(Redeem("127.0.0.1", "WRONG" + std::to_string(i)).ok());
  const size_t rows = audit_.Of("ticket.refused").size();
  EXPECT_EQ(rows, 5u);
  // Limited: even the right ticket is refused until the window passes, and
  // only one more row is written however many attempts come.
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(Redeem("127.0.0.1", t).ok());
  EXPECT_EQ(audit_.Of("ticket.refused").size(), rows + 1);
  EXPECT_EQ(LastRefusal(), "rate-limited");
  // Another source is not limited by this one.
  const std::string other = IssueTicket(Req("127.0.0.9"));
  EXPECT_TRUE(Redeem("127.0.0.9", other).ok());
  clock_.Advance(seconds(60));
  EXPECT_TRUE(Redeem("127.0.0.1", t).ok()) << "the window is over, the ticket still valid";
}

TEST_F(TicketStoreTest, ComparesWithTheInjectedConstantTimeCompare) {
  const std::string t = IssueTicket(Req());
  IssueTicket(Req());
  g_compares = 0;
  ASSERT_TRUE(Redeem("127.0.0.1", t).ok());
  EXPECT_GE(g_compares.load(), 1);
  // RedeemPlain compares every candidate of that user and target.
  auto rdp = Req("10.9.0.1", "ews-01");
  rdp.protocol = policy::Protocol::kRdp;
  rdp.login = "maint";
  auto a = store_.Issue(rdp);
  auto b = store_.Issue(rdp);
  ASSERT_TRUE(a.ok() && b.ok());
  g_compares = 0;
  auto g = store_.RedeemPlain("10.9.0.1", "bob", "ews-01", a->ticket.Reveal());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->login, "maint");
  EXPECT_EQ(g_compares.load(), 2);
}

TEST_F(TicketStoreTest, PlainRules) {
  auto rdp = Req("10.9.0.1", "ews-01");
  rdp.protocol = policy::Protocol::kRdp;
  auto a = store_.Issue(rdp);
  ASSERT_TRUE(a.ok());
  const std::string t(a->ticket.Reveal());
  EXPECT_FALSE(store_.RedeemPlain("10.9.0.1", "mallory", "ews-01", t).ok());
  EXPECT_EQ(LastRefusal(), "no match");
  EXPECT_FALSE(store_.RedeemPlain("10.9.0.1", "bob", "ews-01", t + "X").ok());
  EXPECT_TRUE(store_.RedeemPlain("10.9.0.1", "bob", "ews-01", t).ok());
  EXPECT_FALSE(store_.RedeemPlain("10.9.0.1", "bob", "ews-01", t).ok());
  EXPECT_EQ(LastRefusal(), "reused");
}

TEST_F(TicketStoreTest, NoTicketInAnyAuditRow) {
  std::vector<std::string> tickets;
  for (int i = 0; i < 4; ++i) tickets.push_back(IssueTicket(Req()));  // one evicted
  const std::string wrong_src = IssueTicket(Req("10.0.0.77"));
  tickets.push_back(wrong_src);
  EXPECT_TRUE(Redeem("127.0.0.1", tickets[1]).ok());
  EXPECT_FALSE(Redeem("127.0.0.1", tickets[1]).ok());
  EXPECT_FALSE(Redeem("127.0.0.1", wrong_src).ok());
  clock_.Advance(seconds(200));
  EXPECT_FALSE(Redeem("127.0.0.1", tickets[2]).ok());
  ASSERT_GE(audit_.events.size(), 9u);
  const std::string all = audit_.AllJson();
  for (const auto& t : tickets) EXPECT_EQ(all.find(t), std::string::npos) << "ticket in the audit log";
  for (const auto& e : audit_.Of("ticket.issued")) {
    EXPECT_EQ(e.actor, "bob");
    EXPECT_EQ(e.subject, "hmi-07");
    EXPECT_EQ(e.details["protocol"], "vnc");
    EXPECT_TRUE(e.details.contains("expires"));
    EXPECT_EQ(e.details["ticket_id"].get<std::string>().size(), 14u);
  }
}

TEST_F(TicketStoreTest, RefusesBadRequestsAndFailsClosedOnAudit) {
  auto r = Req("127.0.0.1:5000");
  EXPECT_EQ(store_.Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Req("[::1]:5000");
  EXPECT_EQ(store_.Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.Issue(Req("::1")).ok());
  r = Req();
  r.user.clear();
  EXPECT_EQ(store_.Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  audit_.fail = true;
  EXPECT_EQ(store_.Issue(Req("10.2.0.1")).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.Pending("10.2.0.1"), 0u) << "no ticket without its audit row";
}

TEST_F(TicketStoreTest, GlobalLimit) {
  TicketPolicy p;
  p.max_pending_total = 2;
  TicketStore small(&audit_, &clock_, p);
  EXPECT_TRUE(small.Issue(Req("10.0.0.1")).ok());
  EXPECT_TRUE(small.Issue(Req("10.0.0.2")).ok());
  EXPECT_EQ(small.Issue(Req("10.0.0.3")).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(PeerAddressTest, StripsThePort) {
  EXPECT_EQ(*PeerAddress("ipv4:127.0.0.1:53122"), "127.0.0.1");
  EXPECT_EQ(*PeerAddress("ipv6:[::1]:53122"), "::1");
  EXPECT_EQ(*PeerAddress("ipv6:%5B::1%5D:53122"), "::1");
  EXPECT_FALSE(PeerAddress("inproc").ok());
  EXPECT_FALSE(PeerAddress("unix:/tmp/x").ok());
  EXPECT_FALSE(PeerAddress("ipv4:").ok());
}

}  // namespace
}  // namespace portcullis::core
