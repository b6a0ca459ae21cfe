#pragma once
// RecordingRepo: the catalogue of session recordings (table `recordings`,
// schema v3). One row per recorded channel, keyed by the recording id
// "<session_id>.<channel>". A row is inserted when a recording opens (state
// "recording"), completed when it closes ("complete" or "failed"), marked
// "truncated" when the broker finds it still open at start-up (it died
// while recording), and marked deleted -- never removed -- when retention
// deletes its files, so the audit trail can still name it.
//
// Thread-safe via the Database lock; `db` is not owned and must outlive the
// repo. The repo stores what it is given; paths are relative to the
// recordings directory and are checked not to escape it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

inline constexpr std::string_view kRecordingActive = "recording";
inline constexpr std::string_view kRecordingComplete = "complete";
inline constexpr std::string_view kRecordingTruncated = "truncated";
inline constexpr std::string_view kRecordingFailed = "failed";

struct RecordingRecord {
  std::string id;  // "<session_id>.<channel>"
  std::string session_id;
  int channel = 0;
  std::string user, login, target, protocol, source, command;
  std::string path;        // the .cast file, relative to the recordings directory
  int64_t started_us = 0;  // unix microseconds
  int64_t ended_us = 0;    // 0 while recording (or unknown, for a truncated one)
  uint64_t size = 0;       // bytes of the .cast file as sealed (or found)
  std::string sha256_hex;  // of the file as sealed; "" if not sealed
  std::string state = std::string(kRecordingActive);
  std::string end_reason, failure;
  bool legal_hold = false;
  int64_t deleted_at = 0;  // unix seconds; 0 = the files are there

  bool deleted() const { return deleted_at != 0; }
  // ended_us, or started_us when the end is unknown.
  int64_t LastActivityUs() const { return ended_us != 0 ? ended_us : started_us; }
};

struct RecordingFilter {
  std::optional<std::string> user;    // exact
  std::optional<std::string> target;  // exact
  std::optional<int64_t> since_us;    // started_us >= this
  bool include_deleted = false;
  int limit = 1000;  // 1..100000; the newest `limit` rows
};

struct RecordingEndRecord {
  std::string state;  // "complete" | "failed"
  std::string end_reason, failure;
  int64_t ended_us = 0;
  uint64_t size = 0;
  std::string sha256_hex;
};

class RecordingRepo {
 public:
  static constexpr size_t kMaxIdBytes = 128;
  static constexpr size_t kMaxFieldBytes = 4096;  // command, failure, ...

  explicit RecordingRepo(Database* db);

  // InvalidArgument on a bad id, path or field; AlreadyExists on a
  // duplicate id.
  [[nodiscard]] absl::Status Insert(const RecordingRecord& r);
  [[nodiscard]] absl::StatusOr<RecordingRecord> Get(std::string_view id);  // NotFound
  // Matching rows, newest first (started_us descending, then id).
  [[nodiscard]] absl::StatusOr<std::vector<RecordingRecord>> List(const RecordingFilter& f);
  // Records the end of a recording still in state "recording". NotFound if
  // there is no such row; FailedPrecondition if it already ended.
  [[nodiscard]] absl::Status Finish(std::string_view id, const RecordingEndRecord& end);
  // Rows still in state "recording" (at start-up: the broker died while
  // they were written).
  [[nodiscard]] absl::StatusOr<std::vector<RecordingRecord>> ListActive();
  // Marks a "recording" row "truncated", with the size found on disk and a
  // reason. NotFound if it is not in state "recording".
  [[nodiscard]] absl::Status MarkTruncated(std::string_view id, uint64_t size,
                                           int64_t ended_us, std::string_view failure);
  // Sets or clears the legal hold. NotFound for an unknown id;
  // FailedPrecondition for a deleted recording.
  [[nodiscard]] absl::Status SetLegalHold(std::string_view id, bool hold);
  // Recordings retention may delete: not deleted, not held, not being
  // recorded, and last active before `cutoff_us`. Oldest first, at most
  // `limit`.
  [[nodiscard]] absl::StatusOr<std::vector<RecordingRecord>> ListExpired(int64_t cutoff_us,
                                                                         int limit);
  // Marks a recording deleted at `now_unix`. FailedPrecondition if it is
  // on hold or already deleted (the row is then unchanged); NotFound.
  [[nodiscard]] absl::Status MarkDeleted(std::string_view id, int64_t now_unix);

 private:
  Database* db_;
};

// True iff `path` is a relative path with no "." or ".." component, no
// empty component and no NUL: it cannot leave the directory it is joined to.
bool IsContainedRelativePath(std::string_view path);

}  // namespace portcullis::store
