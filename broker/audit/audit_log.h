#pragma once
// AuditLog: Portcullis's append-only, hash-chained audit log, stored in the
// store's database (table audit_log) with an optional anchor file.
//
// Thread-safe. Appends are serialised (under the Database lock, inside
// BEGIN IMMEDIATE) so the chain is linear. `db` and `clock` are not owned and
// must outlive the AuditLog.
//
// The chain (reviewers can recompute it from the table alone):
//
//   canonical_json(row) = nlohmann::json::dump() -- default arguments: compact,
//       no indent, UTF-8 not \u-escaped -- of the JSON object
//       {"actor","details","outcome","seq","source","subject","time","type"}
//       (nlohmann's default object is a std::map, so keys come out sorted);
//       seq is a JSON integer, details the stored JSON value, the rest strings.
//   hash(row) = lowercase hex of
//       SHA-256(prev_hash_hex || "\n" || canonical_json(row))
//   prev_hash of row 1 = 64 '0' characters; of row N = hash of row N-1.
//   seq starts at 1 and is contiguous. time is RFC 3339 UTC with
//   microseconds, "2026-11-23T09:00:00.123456Z".
//
// Before a row is stored its strings are made valid UTF-8 (invalid bytes
// become U+FFFD) and display-safe (MakeJsonDisplaySafe in
// broker/common/display_text.h: bidirectional, zero-width and control
// characters are escaped, and a details string K that changed keeps its
// raw bytes as hex in K_hex), and actor/subject/outcome/source are cut to
// kMaxAuditFieldBytes, so the stored row is exactly what was hashed.
//
// The anchor file (mode 0600, rewritten atomically after every append)
// holds "SEQ HASH\n" of the chain head, so deleting rows at the tail -- which
// leaves a valid shorter chain -- is detected too. Append rewrites the anchor
// only if it still names the head being extended (or the row before it, after
// an interrupted append); otherwise the old anchor is kept, so evidence of
// tampering survives later appends (e.g. the broker.start after a restart). SQLite triggers refuse
// UPDATE and DELETE on the table; they stop accidental code paths, the chain
// and the anchor catch deliberate edits by someone with file access.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/audit/audit_event.h"
#include "broker/common/clock.h"
#include "broker/store/database.h"

namespace portcullis::audit {

inline constexpr std::string_view kGenesisPrevHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
inline constexpr size_t kMaxAuditTypeBytes = 128;
inline constexpr size_t kMaxAuditFieldBytes = 1024;
inline constexpr size_t kMaxAuditDetailsBytes = 64 * 1024;  // details.dump()
inline constexpr int kMaxAuditListLimit = 100000;

struct AuditRow {
  int64_t seq = 0;
  std::string time;  // RFC 3339 UTC with microseconds
  AuditEvent event;
  std::string prev_hash;
  std::string hash;  // hex SHA-256, see above
};

struct AuditFilter {
  std::optional<int64_t> since_unix;       // rows with time >= this
  std::optional<std::string> type_prefix;  // e.g. "auth." (case-sensitive)
  std::optional<std::string> actor;        // exact
  std::optional<int64_t> after_seq;        // rows with seq > this (paging)
  int limit = 1000;                        // 1..kMaxAuditListLimit
  // When more than `limit` rows match: true = the newest `limit`, false =
  // the oldest `limit` (use with after_seq to page forward).
  bool newest = true;
};

struct VerifyResult {
  bool ok = false;
  int64_t rows_checked = 0;
  std::optional<int64_t> first_bad_seq;  // the first seq that fails (or is missing)
  // e.g. "row 17: hash mismatch (row edited)",
  //      "row 17: sequence gap after 16 (next row is 18; row(s) deleted)",
  //      "row 17: previous-hash link broken (row 16 rewritten, or rows reordered or deleted)",
  //      "chain head mismatch: log ends at 41 but anchor says 42 (tail rows deleted)"
  std::string message;
};

class AuditLog final : public AuditWriter {
 public:
  // `anchor_path`: the anchor file; empty = no anchor (tail deletion then
  // goes undetected).
  AuditLog(store::Database* db, const Clock* clock, std::string anchor_path);

  // Appends `e` and returns its seq. The row is committed and the anchor
  // written before returning. InvalidArgument if the event does not match
  // the event catalogue (ValidateEvent in event_catalogue.h; with
  // PORTCULLIS_AUDIT_STRICT=1 this aborts instead, see
  // AbortOnCatalogueViolation) or its
  // details are over kMaxAuditDetailsBytes;
  // FailedPrecondition if called inside Database::InTransaction() (the anchor
  // cannot be rolled back with it). If only the anchor write fails, the row
  // stays committed and Internal is returned.
  [[nodiscard]] absl::StatusOr<int64_t> Append(const AuditEvent& e) override;
  // Matching rows, ascending seq.
  [[nodiscard]] absl::StatusOr<std::vector<AuditRow>> List(const AuditFilter& f) const;
  // Walks every row: recomputes each hash (edited row), checks seq
  // contiguity (deleted row) and the prev_hash link (reordered/deleted rows),
  // then compares the head with the anchor (tail deletion or rows added
  // outside the broker). A tampered log is an OK status with ok == false;
  // an error status means the check could not run.
  [[nodiscard]] absl::StatusOr<VerifyResult> Verify() const;

 private:
  store::Database* db_;
  const Clock* clock_;
  std::string anchor_path_;
};

// canonical_json() as defined above. Never throws (invalid UTF-8 is
// replaced by U+FFFD).
std::string CanonicalAuditJson(int64_t seq, std::string_view time, const AuditEvent& e);
// hash() as defined above.
std::string AuditChainHash(std::string_view prev_hash_hex, std::string_view canonical_json);

}  // namespace portcullis::audit
