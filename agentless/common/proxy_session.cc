#include "agentless/common/proxy_session.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/common/absl_fmt.h"

namespace portcullis::agentless {

ProxySession::ProxySession(const SessionServices& services, std::string protocol,
                           std::string source)
    : services_(services), protocol_(std::move(protocol)), source_(std::move(source)) {
  started_ = services_.clock->Now();
}

ProxySession::~ProxySession() = default;

void ProxySession::RequestEnd(session::EndReason reason, std::string notice) {
  mailbox_.PostEnd(reason, std::move(notice));
}

void ProxySession::Notify(std::string line) { mailbox_.PostNotice(std::move(line)); }

void ProxySession::AssignId() {
  if (id_.empty()) id_ = services_.sessions->NewId();
}

bool ProxySession::Audit(std::string type, std::string subject, std::string outcome,
                         nlohmann::json details) {
  audit::AuditEvent ev;
  ev.type = std::move(type);
  ev.actor = actor_;
  ev.subject = std::move(subject);
  ev.outcome = std::move(outcome);
  ev.source = source_;
  if (!id_.empty()) details["session"] = id_;
  ev.details = std::move(details);
  auto st = services_.audit->Append(ev);
  if (st.ok()) return true;
  spdlog::error("[{}] cannot write audit event {}: {}", id_, ev.type, st.status().message());
  RequestEnd(session::EndReason::kError, "portcullis: the audit log is unavailable; closing.");
  return false;
}

void ProxySession::Register(Listing listing) {
  session::SessionInfo info;
  info.id = id_;
  info.user = std::move(listing.user);
  info.login = std::move(listing.login);
  info.target = std::move(listing.target);
  info.protocol = protocol_;
  info.source = source_;
  info.role = std::move(listing.role);
  info.started = started_;
  info.deadline = listing.deadline;
  registration_ = {};  // re-registering keeps the id
  registration_ = services_.sessions->Register(std::move(info), this);
  if (id_.empty()) id_ = registration_.id();
}

bool ProxySession::AuditEnd(const std::string& subject, session::EndReason reason,
                            nlohmann::json extra) {
  const auto dur =
      std::chrono::duration_cast<std::chrono::seconds>(services_.clock->Now() - started_);
  nlohmann::json details = std::move(extra);
  if (!details.is_object()) details = nlohmann::json::object();
  details["reason"] = session::EndReasonName(reason);
  details["bytes_up"] = BytesUp();
  details["bytes_down"] = BytesDown();
  details["duration_seconds"] = dur.count();
  return Audit("session.end", subject, "success", std::move(details));
}

}  // namespace portcullis::agentless
