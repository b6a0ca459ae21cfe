// The VNC target leg over VeNCrypt (X509Vnc, X509None) against a real
// Xtigervnc with a self-signed certificate, end to end in process: a
// VncListener with the broker's admission, vault, registry and audit log,
// a test ticket redeemer and a fake graphical recorder, and a libvncclient
// viewer (which speaks VncAuth to the broker; the broker speaks TLS to the
// target).
//
// Oracles: the framebuffer through the broker equals a direct view of the
// same screen (Xtigervnc also offers VncAuth in the clear for the direct
// view); the certificate is pinned on first use with the fingerprint
// `openssl x509 -fingerprint -sha256` prints; a changed certificate, a
// target without VeNCrypt and a wrong vaulted password are refused with
// their audit rows, never downgraded to the clear.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "agentless/vnc/vnc_listener.h"
#include "broker/core/target_validation.h"
#include "broker/core/target_vault.h"
#include "tests/agentless/vnc/fake_graphical_recorder.h"
#include "tests/agentless/vnc/fake_redeemer.h"
#include "tests/agentless/vnc/vnc_test_env.h"
#include "tests/agentless/vnc/xvnc_fixture.h"
#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kHmiPassword[] = "hmi-pass";

constexpr char kRole[] = R"yaml(
kind: role
name: viewer
allow:
  targets: {site: a}
  protocols: [vnc]
)yaml";

// A self-signed certificate and key in `dir` (RSA 2048, one day).
struct Cert {
  std::string cert, key, pin;
};
Cert MakeCert(const TempDir& dir, const std::string& name) {
  Cert c{dir.Join(name + ".pem"), dir.Join(name + ".key"), ""};
  CommandResult r = RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                "-keyout", c.key, "-out", c.cert, "-days", "1", "-subj",
                                "/CN=hmi-" + name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  CommandResult fp =
      RunCommand({"openssl", "x509", "-in", c.cert, "-noout", "-fingerprint", "-sha256"});
  EXPECT_EQ(fp.exit_code, 0) << fp.err;
  auto pin = core::NormaliseCertificatePin(fp.out);
  EXPECT_TRUE(pin.ok()) << pin.status() << ": " << fp.out;
  if (pin.ok()) c.pin = *pin;
  return c;
}

class VncTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!XvncFixture::Available())
      GTEST_SKIP() << "Xtigervnc / tigervncpasswd not installed (.ci/deps.sh installs "
                      "tigervnc-standalone-server and tigervnc-tools)";
    ASSERT_TRUE(env_.ok()) << env_.init_status();
    cert_ = MakeCert(dir_, "a");
    other_ = MakeCert(dir_, "b");
    ASSERT_FALSE(cert_.pin.empty());
    auto& b = env_.broker();
    ASSERT_TRUE(b.roles().PutAll({store::RoleRecord{"viewer", kRole, 0}}).ok());
    b.role_table().Invalidate();
    services_ = VncListenerServices(env_, &redeemer_, &recorders_);
    listener_ = std::make_unique<vnc::VncListener>(services_);
    ASSERT_TRUE(listener_->Start().ok());
  }

  void TearDown() override {
    if (listener_) listener_->Stop();
  }

  // An Xtigervnc offering `types` with `cert`, VncAuth with kHmiPassword
  // (when `password`), xlogo on it.
  std::unique_ptr<XvncFixture> StartXvnc(const std::string& types, const Cert& cert,
                                         bool password = true) {
    XvncOptions xo;
    xo.password = password ? kHmiPassword : "";
    xo.extra_args = {"-SecurityTypes", types, "-X509Cert", cert.cert, "-X509Key", cert.key};
    auto x = std::make_unique<XvncFixture>(xo);
    EXPECT_TRUE(x->Start().ok()) << x->log();
    EXPECT_TRUE(x->StartClient({"/usr/bin/xlogo", "-geometry", "300x200+20+20"}, "xlogo.log").ok());
    return x;
  }

  void AddTarget(const std::string& name, int port, const std::string& auth,
                 const std::string& crypto, const std::string& password,
                 const std::string& pin = "") {
    store::TargetRecord r;
    r.name = name;
    r.address = "127.0.0.1:" + std::to_string(port);
    r.protocol = "vnc";
    r.auth = auth;
    r.crypto_profile = crypto;
    r.host_key = pin;
    r.labels = {{"site", "a"}};
    ASSERT_TRUE(AddVncTarget(env_, r, password).ok());
  }

  std::string Ticket(const std::string& target) {
    static int serial = 0;
    const std::string t = "S" + std::to_string(1000000 + ++serial);
    session::TicketGrant g;
    g.ticket_id = fmt::format("t-{:012d}", serial);
    g.user = "bob";
    g.roles = {"viewer"};
    g.target = target;
    g.source = "127.0.0.1";
    redeemer_.Add(t, g);
    return t;
  }

  std::optional<audit::AuditEvent> WaitRow(const std::string& type,
                                           std::chrono::milliseconds d = 10s) {
    return WaitAuditRow(env_, type, d);
  }

  std::string PinOf(const std::string& target) {
    auto t = env_.broker().targets().Get(target);
    return t.ok() ? t->host_key : "(gone)";
  }

  // A direct view (VncAuth in the clear) once the screen is stable.
  static std::string DirectHash(int port, const std::string& encodings) {
    const std::string h = SettledDirectHash(port, kHmiPassword, encodings);
    EXPECT_FALSE(h.empty()) << "no direct view";
    return h;
  }

  TempDir dir_;
  Cert cert_, other_;
  BrokerEnv env_;
  FakeRedeemer redeemer_;
  FakeRecorderFactory recorders_;
  vnc::VncServices services_;
  std::unique_ptr<vnc::VncListener> listener_;
};

TEST_F(VncTlsTest, X509VncTargetThroughTheBrokerPinsItsCertificateOnFirstUse) {
  // VncAuth listed first: libvncclient (the direct view) takes it, and the
  // broker must still choose VeNCrypt.
  auto x = StartXvnc("VncAuth,X509Vnc", cert_);
  AddTarget("hmi-tls", x->port(), "password", "modern", kHmiPassword);
  for (const std::string enc : {"raw", "tight raw"}) {
    SCOPED_TRACE(enc);
    const std::string direct = DirectHash(x->port(), enc);
    ViewerClient v;
    ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-tls"), enc).ok()) << v.last_error();
    std::string through;
    for (int i = 0; i < 20 && through != direct; ++i) {
      ASSERT_TRUE(v.Refresh().ok());
      through = v.Hash();
    }
    EXPECT_EQ(through, direct);
    // What the recorder saw is what the viewer saw (a whole raw screen of
    // 640x480x4 bytes crossed TLS at least once).
    v.Pump(200ms);
    std::string fb = recorders_.last()->Fb();
    for (size_t i = 3; i < fb.size(); i += 4) fb[i] = 0;  // the viewer zeroes the unused byte
    EXPECT_TRUE(fb == v.Bgrx()) << "the recorder's framebuffer differs from the viewer's";
  }
  EXPECT_EQ(PinOf("hmi-tls"), cert_.pin);
  auto pinned = WaitRow("target.host_key_pinned");
  ASSERT_TRUE(pinned.has_value());
  EXPECT_EQ(pinned->details["host_key"], cert_.pin);
  // Keys cross the TLS leg too: the session still answers after input.
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-tls"), "raw").ok());
  EXPECT_TRUE(v.SendKey(0x61, true));
  EXPECT_TRUE(v.SendKey(0x61, false));
  EXPECT_TRUE(v.Refresh().ok());
}

TEST_F(VncTlsTest, APrePinnedCertificateIsAcceptedWithoutANewPin) {
  auto x = StartXvnc("X509Vnc", cert_);
  AddTarget("hmi-pinned", x->port(), "password", "modern", kHmiPassword, cert_.pin);
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-pinned"), "raw").ok()) << v.last_error();
  EXPECT_EQ(v.width(), 640);
  EXPECT_FALSE(WaitRow("target.host_key_pinned", 500ms).has_value());
}

TEST_F(VncTlsTest, AChangedCertificateIsRefusedAndAudited) {
  auto x = StartXvnc("X509Vnc", other_);  // presents b, a is pinned
  AddTarget("hmi-moved", x->port(), "password", "modern", kHmiPassword, cert_.pin);
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-moved"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_NE(r.reason.find("changed"), std::string::npos) << r.reason;
  auto row = WaitRow("target.host_key_mismatch");
  ASSERT_TRUE(row.has_value());
  EXPECT_NE(row->details.dump().find(other_.pin.substr(0, 28)), std::string::npos)
      << row->details.dump();
  EXPECT_EQ(PinOf("hmi-moved"), cert_.pin);  // the pin is not replaced
  // The vaulted password was never used on the impostor: Xtigervnc saw no
  // VNC authentication (its log names failed and passed ones).
  EXPECT_EQ(x->log().find("uthentication"), std::string::npos) << x->log();
}

TEST_F(VncTlsTest, AModernTargetWithoutVeNCryptIsRefusedNotDowngraded) {
  XvncOptions xo;
  xo.password = kHmiPassword;  // VncAuth in the clear only
  XvncFixture x(xo);
  ASSERT_TRUE(x.Start().ok()) << x.log();
  AddTarget("hmi-clear", x.port(), "password", "modern", kHmiPassword);
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-clear"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_NE(r.reason.find("no VeNCrypt"), std::string::npos) << r.reason;
  auto row = WaitRow("session.target_failed");
  ASSERT_TRUE(row.has_value());
  EXPECT_NE(row->details["error"].get<std::string>().find("no VeNCrypt"), std::string::npos);
  EXPECT_TRUE(PinOf("hmi-clear").empty());
}

TEST_F(VncTlsTest, AWrongVaultedPasswordOverTlsSaysOnlyThatTheBrokerCouldNotLogIn) {
  auto x = StartXvnc("X509Vnc", cert_);
  AddTarget("hmi-wrong", x->port(), "password", "modern", "Not-The-Pass");
  RawResult r = RawHandshake(listener_->port(), Ticket("hmi-wrong"));
  EXPECT_EQ(r.result, 1u);
  EXPECT_EQ(r.reason, "portcullis: the broker could not log in to hmi-wrong");
  auto row = WaitRow("session.target_failed");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->details.dump().find("Not-The-Pass"), std::string::npos);
}

TEST_F(VncTlsTest, X509NoneTargetWithoutAPassword) {
  auto x = StartXvnc("X509None", cert_, /*password=*/false);
  AddTarget("hmi-x509none", x->port(), "none", "modern", "");
  ViewerClient v;
  ASSERT_TRUE(v.Connect(listener_->port(), Ticket("hmi-x509none"), "hextile raw").ok())
      << v.last_error();
  EXPECT_EQ(v.width(), 640);
  EXPECT_EQ(PinOf("hmi-x509none"), cert_.pin);
}

}  // namespace
}  // namespace portcullis::testing
