#pragma once
// What the VNC tests (and bench_vnc) set up around a VncListener with the
// broker's own parts from a BrokerEnv: the listener's services, vnc targets
// with their vaulted password, audit rows waited for, and a direct view's
// settled framebuffer hash. Test-only code.

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "agentless/vnc/vnc_services.h"
#include "broker/core/target_vault.h"
#include "tests/agentless/vnc/xvnc_fixture.h"
#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {

// Listener services on 127.0.0.1 (port 0) with the broker's admitter,
// registry, audit log and clock, and the given tickets and recorders.
inline vnc::VncServices VncListenerServices(BrokerEnv& env, session::TicketRedeemer* tickets,
                                            session::RecorderFactory* recorders) {
  auto& b = env.broker();
  vnc::VncServices s;
  s.settings.host = "127.0.0.1";
  s.settings.port = 0;
  s.settings.auth_timeout = std::chrono::seconds(30);
  s.settings.target_timeout = std::chrono::seconds(5);
  s.tickets = tickets;
  s.session = {&b.admitter(), &b.sessions(), recorders, &b.audit(), b.clock()};
  return s;
}

// Creates the vnc target `r` and, unless `password` is empty, vaults it as
// the target's VNC password (set by alice).
inline absl::Status AddVncTarget(BrokerEnv& env, const store::TargetRecord& r,
                                 const std::string& password) {
  auto& b = env.broker();
  if (auto st = b.targets().Create(r); !st.ok()) return st;
  if (password.empty()) return absl::OkStatus();
  core::SetTargetSecretRequest req;
  req.target = r.name;
  req.kind = core::SecretKind::kPassword;
  req.set_by = "alice";
  req.now = env.clock().NowUnix();
  auto secret = SecretBytes::FromString(password);
  if (!secret.ok()) return secret.status();
  return core::SetTargetSecret(b.targets(), b.secret_box(), req, *secret);
}

// The first audit row of `type`, waiting up to `d` (session threads write
// them).
inline std::optional<audit::AuditEvent> WaitAuditRow(
    BrokerEnv& env, const std::string& type,
    std::chrono::milliseconds d = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < deadline) {
    audit::AuditFilter f;
    f.type_prefix = type;
    f.newest = false;
    auto rows = env.broker().audit().List(f);
    if (rows.ok())
      for (auto& r : *rows)
        if (r.event.type == type) return r.event;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

// A direct connection's framebuffer hash once two refreshes agree (or the
// last one after 20).
inline std::string SettledDirectHash(int port, const std::string& password,
                                     const std::string& encodings) {
  ViewerClient direct;
  if (!direct.Connect(port, password, encodings).ok()) return "";
  std::string prev;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!direct.Refresh().ok()) return "";
    const std::string h = direct.Hash();
    if (h == prev) return h;
    prev = h;
  }
  return prev;
}

}  // namespace portcullis::testing
