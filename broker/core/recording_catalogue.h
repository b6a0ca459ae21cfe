#pragma once
// RecordingCatalogue: the broker's view of its recordings. It is the
// RecordingObserver the recorder factory reports to (a row per recording in
// store::RecordingRepo), it repairs the catalogue after a crash (rows left
// "recording" become "truncated"), and it applies retention: recordings
// older than the configured period, and not on legal hold, lose their files
// (the .cast and its sidecars) but keep their row, and each deletion is an
// audit event.
//
// Thread-safe: the repo and audit log are; legal holds and deletions are
// serialised by one mutex, so a recording put on hold is never deleted
// afterwards. `repo`, `audit` and `clock` are not owned and must outlive
// the catalogue, which must outlive every recorder that reports to it.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/audit/audit_log.h"
#include "broker/common/clock.h"
#include "broker/session/recorder.h"
#include "broker/store/recording_repo.h"

namespace portcullis::core {

// The files of one recording, all beside each other (recorder/seal_format.h).
struct RecordingFiles {
  std::string recording, manifest, signature, seal;
  std::vector<std::string> All() const { return {recording, manifest, signature, seal}; }
};
// The sidecars of `recording_path` ("x/ID.cast" -> "x/ID.manifest.json",
// ...; any format's extension, as recorder::PathsFor).
RecordingFiles FilesOf(const std::string& recording_path);

struct PruneReport {
  std::vector<std::string> deleted;  // recording ids whose files were removed
  std::vector<std::string> failed;   // ids that could not be removed (audited, retried later)
};

class RecordingCatalogue final : public session::RecordingObserver {
 public:
  // `dir`: the recordings directory (paths in the catalogue are relative to
  // it). `retention`: 0 keeps recordings forever.
  RecordingCatalogue(store::RecordingRepo* repo, audit::AuditLog* audit, const Clock* clock,
                     std::string dir, std::chrono::seconds retention);

  // RecordingObserver. Opened fails (and so refuses the recording) if the
  // path is not under the recordings directory or the row cannot be stored.
  [[nodiscard]] absl::Status Opened(const session::RecordingInfo& info,
                                    const std::string& path) override;
  void Closed(const session::RecordingEnd& end) override;

  // Marks every row still "recording" as "truncated" (call once at start-up,
  // before any new recording): its size and end become the file's size and
  // modification time; each one is audited (recording.truncated). Returns
  // how many.
  [[nodiscard]] absl::StatusOr<int> RecoverInterrupted();

  // Legal hold on or off; NotFound, or FailedPrecondition once deleted.
  // The caller audits.
  [[nodiscard]] absl::Status SetLegalHold(const std::string& id, bool hold);

  // Runs retention now: deletes the files of every expired recording not
  // on hold and marks its row deleted; audits recording.deleted (actor,
  // source as given; details: the paths removed) or, when a file cannot be
  // removed, recording.delete_failed. Nothing to do when retention is 0.
  PruneReport Prune(const std::string& actor, const std::string& source);

  // The absolute path of a catalogued recording's .cast file.
  std::string AbsolutePath(const store::RecordingRecord& r) const { return dir_ + "/" + r.path; }
  const std::string& dir() const { return dir_; }
  std::chrono::seconds retention() const { return retention_; }

 private:
  // Removes the files of `r` (under mu_). OK with the removed paths
  // (relative), or the first error.
  absl::StatusOr<std::vector<std::string>> RemoveFiles(const store::RecordingRecord& r);
  void Audit(const std::string& type, const std::string& actor, const std::string& source,
             const std::string& subject, const std::string& outcome, nlohmann::json details);

  store::RecordingRepo* repo_;
  audit::AuditLog* audit_;
  const Clock* clock_;
  const std::string dir_;
  const std::chrono::seconds retention_;
  std::mutex mu_;  // serialises SetLegalHold and Prune
};

}  // namespace portcullis::core
