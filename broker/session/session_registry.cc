#include "broker/session/session_registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "broker/common/encoding.h"
#include "broker/common/time_format.h"

namespace portcullis::session {

std::string_view EndReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kClientClosed: return "client-closed";
    case EndReason::kTargetClosed: return "target-closed";
    case EndReason::kKilled: return "killed";
    case EndReason::kUserDisabled: return "user-disabled";
    case EndReason::kMaxSession: return "max-session";
    case EndReason::kShutdown: return "shutdown";
    case EndReason::kRecordingFailed: return "recording-failed";
    case EndReason::kError: return "error";
  }
  return "error";
}

SessionRegistry::Registration& SessionRegistry::Registration::operator=(
    Registration&& o) noexcept {
  if (this != &o) {
    if (reg_ != nullptr) reg_->Unregister(id_);
    reg_ = o.reg_;
    id_ = std::move(o.id_);
    o.reg_ = nullptr;
  }
  return *this;
}

SessionRegistry::Registration::~Registration() {
  if (reg_ != nullptr) reg_->Unregister(id_);
}

SessionRegistry::SessionRegistry(const Clock* clock) : clock_(clock) {}

SessionRegistry::~SessionRegistry() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

std::string SessionRegistry::NewId() {
  for (;;) {
    std::string id = HexEncode(RandomBytes(6));
    std::lock_guard<std::mutex> lock(mu_);
    if (!entries_.count(id)) return id;
  }
}

SessionRegistry::Registration SessionRegistry::Register(SessionInfo info, LiveSession* session) {
  if (info.id.empty()) info.id = NewId();
  std::string id = info.id;
  std::lock_guard<std::mutex> lock(mu_);
  entries_[id] = Entry{std::move(info), session, false, false};
  return Registration(this, std::move(id));
}

void SessionRegistry::Unregister(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(id);
}

std::vector<SessionSnapshot> SessionRegistry::List() const {
  std::vector<SessionSnapshot> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.reserve(entries_.size());
    for (const auto& [id, e] : entries_) {
      out.push_back(SessionSnapshot{e.info, e.session->BytesUp(), e.session->BytesDown()});
    }
  }
  std::sort(out.begin(), out.end(), [](const SessionSnapshot& a, const SessionSnapshot& b) {
    return a.info.started != b.info.started ? a.info.started < b.info.started
                                            : a.info.id < b.info.id;
  });
  return out;
}

std::optional<SessionSnapshot> SessionRegistry::Get(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return SessionSnapshot{it->second.info, it->second.session->BytesUp(),
                         it->second.session->BytesDown()};
}

size_t SessionRegistry::Count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

// RequestEnd only posts to the session's thread, so calling it under the
// lock cannot deadlock; it also keeps the session pointer valid (a session
// unregisters, under the same lock, before it is destroyed).
absl::Status SessionRegistry::Kill(std::string_view id, std::string notice) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end())
    return absl::NotFoundError(fmt::format("no live session {}", id));
  it->second.ended = true;
  it->second.session->RequestEnd(EndReason::kKilled, std::move(notice));
  return absl::OkStatus();
}

int SessionRegistry::EndUserSessions(std::string_view user, EndReason reason,
                                     std::string notice) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& [id, e] : entries_) {
    if (e.info.user != user) continue;
    e.ended = true;
    e.session->RequestEnd(reason, notice);
    ++n;
  }
  return n;
}

void SessionRegistry::EndAll(EndReason reason, std::string notice) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, e] : entries_) {
    e.ended = true;
    e.session->RequestEnd(reason, notice);
  }
}

void SessionRegistry::Tick() {
  const TimePoint now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, e] : entries_) {
    if (!e.info.deadline || e.ended) continue;
    if (now >= *e.info.deadline) {
      e.ended = true;
      e.session->RequestEnd(EndReason::kMaxSession,
                            "portcullis: the role's maximum session time is reached; closing.");
    } else if (!e.warned && now + kDeadlineNotice >= *e.info.deadline) {
      e.warned = true;
      e.session->Notify(fmt::format(
          "portcullis: this session ends at {} (the role's max_session).",
          FormatUtc(*e.info.deadline)));
    }
  }
}

void SessionRegistry::StartWatchdog() {
  std::lock_guard<std::mutex> lock(mu_);
  if (watchdog_.joinable()) return;
  watchdog_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, std::chrono::seconds(1));
      if (stopping_) break;
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

}  // namespace portcullis::session
