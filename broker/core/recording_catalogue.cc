#include "broker/core/recording_catalogue.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/common/absl_fmt.h"
#include "broker/common/time_format.h"
#include "recorder/seal_format.h"

namespace portcullis::core {
namespace {

constexpr int kPruneBatch = 10000;

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string UtcMicros(int64_t us) {
  return us == 0 ? "" : FormatUtc(TimePoint(std::chrono::microseconds(us)), true);
}

}  // namespace

RecordingFiles FilesOf(const std::string& recording_path) {
  const recorder::RecordingPaths p = recorder::PathsFor(recording_path);
  return RecordingFiles{p.recording, p.manifest, p.signature, p.seal};
}

RecordingCatalogue::RecordingCatalogue(store::RecordingRepo* repo, audit::AuditLog* audit,
                                       const Clock* clock, std::string dir,
                                       std::chrono::seconds retention)
    : repo_(repo), audit_(audit), clock_(clock), dir_(std::move(dir)), retention_(retention) {}

absl::Status RecordingCatalogue::Opened(const session::RecordingInfo& info,
                                        const std::string& path) {
  const std::string prefix = dir_ + "/";
  if (path.compare(0, prefix.size(), prefix) != 0) {
    return absl::FailedPreconditionError(
        fmt::format("recording {} is outside the recordings directory {}", path, dir_));
  }
  store::RecordingRecord r;
  r.id = info.RecordingId();
  r.session_id = info.session_id;
  r.channel = info.channel;
  r.user = info.user;
  r.login = info.login;
  r.target = info.target;
  r.protocol = info.protocol;
  r.source = info.source;
  r.command = info.command;
  r.path = path.substr(prefix.size());
  r.started_us = Micros(info.started == TimePoint{} ? clock_->Now() : info.started);
  if (auto st = repo_->Insert(r); !st.ok()) {
    return absl::Status(st.code(), fmt::format("cataloguing the recording: {}", st.message()));
  }
  return absl::OkStatus();
}

void RecordingCatalogue::Closed(const session::RecordingEnd& end) {
  store::RecordingEndRecord e;
  e.state = end.state;
  e.end_reason = end.end_reason;
  e.failure = end.failure;
  e.ended_us = Micros(end.ended == TimePoint{} ? clock_->Now() : end.ended);
  e.size = end.size;
  e.sha256_hex = end.sha256_hex;
  if (auto st = repo_->Finish(end.recording_id, e); !st.ok()) {
    // The recording itself is sealed on disk; only its row is stale (it
    // becomes "truncated" at the next start).
    spdlog::error("{}: recording end not catalogued: {}", end.recording_id, st.message());
  }
}

absl::StatusOr<int> RecordingCatalogue::RecoverInterrupted() {
  auto active = repo_->ListActive();
  if (!active.ok()) return active.status();
  int n = 0;
  for (const auto& r : *active) {
    struct stat sb {};
    uint64_t size = 0;
    int64_t ended_us = 0;
    if (::stat(AbsolutePath(r).c_str(), &sb) == 0) {
      size = static_cast<uint64_t>(sb.st_size);
      ended_us = int64_t{sb.st_mtim.tv_sec} * 1'000'000 + sb.st_mtim.tv_nsec / 1000;
    }
    const std::string why = "the broker stopped while recording";
    if (auto st = repo_->MarkTruncated(r.id, size, ended_us, why); !st.ok()) return st;
    spdlog::warn("{}: recording left open by a stopped broker; marked truncated ({} bytes)", r.id,
                 size);
    Audit("recording.truncated", "system", "", r.id, "truncated",
          {{"user", r.user}, {"target", r.target}, {"path", r.path}, {"size", size}});
    ++n;
  }
  return n;
}

absl::Status RecordingCatalogue::SetLegalHold(const std::string& id, bool hold) {
  std::lock_guard<std::mutex> lock(mu_);
  return repo_->SetLegalHold(id, hold);
}

absl::StatusOr<std::vector<std::string>> RecordingCatalogue::RemoveFiles(
    const store::RecordingRecord& r) {
  std::vector<std::string> removed;
  const RecordingFiles rel = FilesOf(r.path);
  for (const std::string& f : rel.All()) {
    const std::string abs = dir_ + "/" + f;
    if (::unlink(abs.c_str()) == 0) {
      removed.push_back(f);
    } else if (errno != ENOENT) {
      return absl::UnavailableError(fmt::format("cannot delete {}: {}", abs, std::strerror(errno)));
    }
  }
  // The day, month and year directories go once empty (rmdir refuses
  // otherwise).
  std::string parent = dir_ + "/" + r.path;
  for (int i = 0; i < 3; ++i) {
    size_t slash = parent.rfind('/');
    if (slash == std::string::npos || slash <= dir_.size()) break;
    parent.resize(slash);
    if (::rmdir(parent.c_str()) != 0) break;
  }
  return removed;
}

PruneReport RecordingCatalogue::Prune(const std::string& actor, const std::string& source) {
  PruneReport report;
  if (retention_.count() <= 0) return report;
  const int64_t cutoff_us = Micros(clock_->Now()) - int64_t{retention_.count()} * 1'000'000;
  auto expired = repo_->ListExpired(cutoff_us, kPruneBatch);
  if (!expired.ok()) {
    spdlog::error("retention: cannot list expired recordings: {}", expired.status().message());
    return report;
  }
  for (const auto& candidate : *expired) {
    std::lock_guard<std::mutex> lock(mu_);
    // Re-read under the lock: a hold set since the listing wins.
    auto r = repo_->Get(candidate.id);
    if (!r.ok() || r->legal_hold || r->deleted()) continue;
    auto removed = RemoveFiles(*r);
    if (!removed.ok()) {
      report.failed.push_back(r->id);
      spdlog::error("retention: {}: {}", r->id, removed.status().message());
      Audit("recording.delete_failed", actor, source, r->id, "failure",
            {{"error", std::string(removed.status().message())}});
      continue;
    }
    if (auto st = repo_->MarkDeleted(r->id, clock_->NowUnix()); !st.ok()) {
      report.failed.push_back(r->id);
      spdlog::error("retention: {}: files removed but the row not updated: {}", r->id,
                    st.message());
      continue;
    }
    report.deleted.push_back(r->id);
    Audit("recording.deleted", actor, source, r->id, "success",
          {{"paths", *removed},
           {"user", r->user},
           {"target", r->target},
           {"started", UtcMicros(r->started_us)},
           {"ended", UtcMicros(r->ended_us)},
           {"state", r->state},
           {"retention_seconds", retention_.count()}});
  }
  if (!report.deleted.empty()) {
    spdlog::info("retention: deleted {} recordings older than {}s", report.deleted.size(),
                 retention_.count());
  }
  return report;
}

void RecordingCatalogue::Audit(const std::string& type, const std::string& actor,
                               const std::string& source, const std::string& subject,
                               const std::string& outcome, nlohmann::json details) {
  audit::AuditEvent ev;
  ev.type = type;
  ev.actor = actor;
  ev.subject = subject;
  ev.outcome = outcome;
  ev.source = source;
  ev.details = std::move(details);
  if (auto st = audit_->Append(ev); !st.ok()) {
    spdlog::error("audit: cannot record {} {}: {}", type, subject, st.status().message());
  }
}

}  // namespace portcullis::core
