#include "broker/session/admission.h"

#include <fmt/format.h>

#include <utility>

#include "broker/common/absl_fmt.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"

namespace portcullis::session {
namespace {

policy::TargetInfo InfoOf(const AccessTarget& t) {
  policy::TargetInfo ti;
  ti.name = t.name;
  ti.labels = t.labels;
  auto proto = policy::ParseProtocol(t.protocol);
  if (proto.ok()) ti.protocol = *proto;
  return ti;
}

std::string DeniedLine(const AdmissionRequest& r, const policy::Decision& d, bool visible) {
  if (!visible) return fmt::format("portcullis: access to {} denied by policy", r.target);
  return fmt::format("portcullis: access to {}@{} denied by policy: {}",
                     r.login.empty() ? "(default login)" : r.login, r.target, d.reason);
}

constexpr const char* kAuditDown = "portcullis: the audit log is unavailable; refused";

}  // namespace

std::string_view RequestKindName(RequestKind k) {
  switch (k) {
    case RequestKind::kTarget: return "target";
    case RequestKind::kTunnel: return "tunnel";
    case RequestKind::kTransfer: return "transfer";
    case RequestKind::kExec: return "exec";
    case RequestKind::kSftp: return "sftp";
  }
  return "target";
}

nlohmann::json DecisionDetails(RequestKind kind, std::string_view login,
                               std::string_view protocol, const policy::Decision& d) {
  nlohmann::json j = nlohmann::json::object();
  j["request"] = std::string(RequestKindName(kind));
  j["login"] = std::string(login);
  j["protocol"] = std::string(protocol);
  j["role"] = d.role;
  j["rule"] = d.rule.empty() ? std::string(policy::kRuleDefaultDeny) : d.rule;
  j["reason"] = d.reason;
  return j;
}

absl::Status Admitter::Write(const AdmissionRequest& r, std::string type, std::string subject,
                             std::string outcome, nlohmann::json details) {
  audit::AuditEvent ev;
  ev.type = std::move(type);
  ev.actor = r.user;
  ev.subject = std::move(subject);
  ev.outcome = std::move(outcome);
  ev.source = r.source;
  if (!r.session_id.empty()) details["session"] = r.session_id;
  ev.details = std::move(details);
  auto st = s_.audit->Append(ev);
  if (!st.ok()) return absl::UnavailableError(kAuditDown);
  return absl::OkStatus();
}

absl::StatusOr<Admission> Admitter::Admit(const AdmissionRequest& r) {
  const std::string protocol(policy::ProtocolName(r.protocol));
  auto target = s_.targets->Get(r.target);
  policy::Decision d;
  if (!target.ok() || target->protocol != protocol) {
    // The same answer for a target that does not exist and one of another
    // protocol; neither says whether the name exists.
    d.rule = std::string(policy::kRuleDefaultDeny);
    d.reason = target.ok() ? fmt::format("target does not speak {}", protocol)
                           : std::string("no such target");
    if (auto st = Write(r, "policy.decision", r.target, "denied",
                        DecisionDetails(RequestKind::kTarget, r.login, protocol, d));
        !st.ok())
      return st;
    return absl::PermissionDeniedError(DeniedLine(r, d, false));
  }
  const policy::TargetInfo ti = InfoOf(*target);
  const bool visible = s_.authority->CanSee(r.roles, ti);
  policy::AccessRequest req;
  req.user = r.user;
  req.role_names = r.roles;
  req.target = ti;
  req.login = r.login;
  req.protocol = r.protocol;
  req.at = s_.clock->Now();
  d = s_.authority->Decide(req);
  // VNC has no login on the target: the role's default login (for its SSH
  // and RDP targets) does not apply, and rows and listings show none.
  if (r.protocol == policy::Protocol::kVnc) d.login.clear();
  if (d.allowed && d.require_approval) {
    d.allowed = false;
    d.rule = "approval-required";
    d.reason = fmt::format(
        "role {} requires an approval, and approvals are not available in this release", d.role);
  }
  if (auto st = Write(r, "policy.decision", target->name, d.allowed ? "allowed" : "denied",
                      DecisionDetails(RequestKind::kTarget, d.allowed ? d.login : r.login,
                                      protocol, d));
      !st.ok())
    return st;
  if (!d.allowed) return absl::PermissionDeniedError(DeniedLine(r, d, visible));
  if (s_.recorders == nullptr)
    return absl::UnavailableError(
        "portcullis: sessions cannot be recorded on this broker; refused");
  if (auto st = s_.recorders->Ready(); !st.ok()) {
    (void)Write(r, "session.refused", target->name, "denied",
                {{"reason", fmt::format("recordings cannot be written: {}", st.message())}});
    return absl::UnavailableError(
        "portcullis: recordings cannot be written right now, so sessions are refused");
  }
  return Admission{std::move(*target), std::move(d)};
}

absl::StatusOr<ca::IssuedCertificate> Admitter::IssueCertificate(const AdmissionRequest& r,
                                                                 const Admission& a,
                                                                 std::string_view public_blob,
                                                                 bool permit_port_forwarding) {
  ca::TargetCertRequest cr;
  cr.subject_public_blob = std::string(public_blob);
  cr.user = r.user;
  cr.session_id = r.session_id;
  cr.login = a.login();
  cr.permit_pty = true;
  cr.permit_port_forwarding = permit_port_forwarding;
  auto cert = s_.authority->IssueTargetCertificate(cr);
  if (!cert.ok()) return cert.status();
  PC_RETURN_IF_ERROR(Write(r, "ca.cert_issued", a.target.name, "success",
                           {{"serial", cert->serial},
                            {"key_id", cert->key_id},
                            {"principal", a.login()},
                            {"valid_before", FormatUtc(FromUnix(
                                                 static_cast<int64_t>(cert->valid_before)))}}));
  return cert;
}

absl::Status Admitter::AcceptHostKey(const AdmissionRequest& r, const Admission& a,
                                     std::string_view host_key, bool first_use) {
  if (!first_use) return absl::OkStatus();
  if (auto st = s_.targets->PinHostKey(a.target.name, host_key); !st.ok()) {
    (void)Write(r, "target.host_key_mismatch", a.target.name, "failure",
                {{"error", std::string(st.message())},
                 {"login", a.login()},
                 {"presented", std::string(host_key)}});
    return absl::FailedPreconditionError(fmt::format(
        "portcullis: host key of {} changed; the session is refused", a.target.name));
  }
  return Write(r, "target.host_key_pinned", a.target.name, "success",
               {{"host_key", std::string(host_key)}, {"how", "trust on first use"}});
}

absl::StatusOr<SecretBytes> Admitter::OpenSecret(const AdmissionRequest& r,
                                                 const Admission& a) {
  // VNC has no login: its password is vaulted under the empty login,
  // whatever login the deciding role would default to.
  const std::string login = a.target.protocol == "vnc" ? std::string() : a.login();
  auto vaulted = s_.authority->OpenTargetSecret(a.target.name, login);
  if (!vaulted.ok()) return vaulted.status();
  const std::string_view kind = vaulted->kind == SecretKind::kKey ? "key" : "password";
  if (kind != a.target.auth)
    return absl::FailedPreconditionError(fmt::format(
        "the secret vaulted for {} is a {}, the target uses {}",
        login.empty() ? "(no login)" : login, kind, a.target.auth));
  (void)r;
  return std::move(vaulted->secret);
}

std::string Admitter::ConnectFailed(const AdmissionRequest& r, const Admission& a,
                                    const absl::Status& st) {
  const bool changed = st.code() == absl::StatusCode::kFailedPrecondition;
  const bool vaulted_login = st.code() == absl::StatusCode::kUnauthenticated;
  nlohmann::json details = {{"error", std::string(st.message())}, {"login", a.login()}};
  if (vaulted_login) {
    details["reason"] = std::string(st.message());
    details["auth"] = a.target.auth;
  }
  (void)Write(r, changed ? "target.host_key_mismatch" : "session.target_failed", a.target.name,
              "failure", std::move(details));
  // A failed vaulted login says nothing about the secret to the user.
  if (vaulted_login && a.login().empty())  // VNC: no login on the target
    return fmt::format("portcullis: the broker could not log in to {}", a.target.name);
  if (vaulted_login)
    return fmt::format("portcullis: the broker could not log in to {} as {}", a.target.name,
                       a.login());
  return fmt::format("portcullis: {}", st.message());
}

policy::Decision Admitter::DecideTunnel(const AdmissionRequest& r, const Admission& a,
                                        std::string_view destination) {
  policy::AccessRequest req;
  req.user = r.user;
  req.role_names = r.roles;
  req.target = InfoOf(a.target);
  req.login = a.login();
  req.protocol = policy::Protocol::kTcp;
  req.at = s_.clock->Now();
  req.tunnel = std::string(destination);
  policy::Decision d = s_.authority->Decide(req);
  nlohmann::json details =
      DecisionDetails(RequestKind::kTunnel, a.login(), policy::ProtocolName(req.protocol), d);
  details["destination"] = std::string(destination);
  if (!Write(r, "policy.decision", a.target.name, d.allowed ? "allowed" : "denied",
             std::move(details))
           .ok()) {
    d.allowed = false;
    d.reason = "the audit log is unavailable";
  }
  return d;
}

absl::StatusOr<std::vector<std::string>> Admitter::VisibleTargets(
    const std::vector<std::string>& roles, policy::Protocol protocol) {
  PC_ASSIGN_OR_RETURN(auto all, s_.targets->List());
  std::vector<std::string> names;
  const std::string_view want = policy::ProtocolName(protocol);
  for (const auto& t : all) {
    if (t.protocol != want) continue;
    if (s_.authority->CanSee(roles, InfoOf(t))) names.push_back(t.name);
  }
  return names;
}

absl::Status Admitter::AuditDecision(const AdmissionRequest& r, std::string_view subject,
                                     RequestKind kind, const policy::Decision& d,
                                     nlohmann::json extra) {
  nlohmann::json details =
      DecisionDetails(kind, r.login, policy::ProtocolName(r.protocol), d);
  for (auto& [k, v] : extra.items()) details[k] = std::move(v);
  return Write(r, "policy.decision", std::string(subject), d.allowed ? "allowed" : "denied",
               std::move(details));
}

}  // namespace portcullis::session
