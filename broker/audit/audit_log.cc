#include "broker/audit/audit_log.h"

#include <algorithm>
#include <limits>
#include <utility>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/audit/audit_anchor.h"
#include "broker/audit/event_catalogue.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/display_text.h"
#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "broker/common/json_depth.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"

namespace portcullis::audit {
namespace {

using store::Statement;

constexpr int kVerifyBatch = 1000;
constexpr std::string_view kTruncated = "[truncated]";
constexpr std::string_view kSelectRow =
    "SELECT seq, time, type, actor, subject, outcome, source, details, prev_hash, hash "
    "FROM audit_log";

constexpr int kMaxDetailsDepth = 64;

std::string ToValidUtf8(const std::string& s) {
  // Round trip through nlohmann's serializer, which replaces invalid UTF-8
  // with U+FFFD; valid input comes back unchanged.
  const std::string quoted =
      nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  nlohmann::json back = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  return back.is_string() ? back.get<std::string>() : std::string();
}

// A top-level field: valid UTF-8 (as before), then display-safe.
std::string SafeField(const std::string& s) {
  std::string valid = ToValidUtf8(s);
  return NeedsDisplayEscape(valid) ? DisplayText(valid) : valid;
}

// Cuts valid UTF-8 `s` to at most `max` bytes on a character boundary.
std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max - kTruncated.size();
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s.append(kTruncated);
  return s;
}

// The event exactly as it will be stored and hashed.
absl::StatusOr<AuditEvent> Normalise(const AuditEvent& e) {
  if (e.type.empty() || e.type.size() > kMaxAuditTypeBytes) {
    return absl::InvalidArgumentError(
        fmt::format("audit event type must be 1 to {} bytes", kMaxAuditTypeBytes));
  }
  // Display-safe: no text in the log can pose as another (bidi overrides,
  // zero-width characters, controls); a changed string keeps its raw bytes
  // in hex in a K_hex sibling.
  nlohmann::json safe_details = e.details;
  MakeJsonDisplaySafe(safe_details);
  // A top-level field that had to change keeps its raw bytes (the first
  // kMaxAuditFieldBytes) in hex in the details, as K_hex.
  for (const auto& [name, raw] : {std::pair<const char*, const std::string*>{"actor", &e.actor},
                                  {"subject", &e.subject},
                                  {"source", &e.source}}) {
    if (SafeField(*raw) == *raw) continue;
    if (safe_details.is_null()) safe_details = nlohmann::json::object();
    if (!safe_details.is_object()) break;
    safe_details[std::string(name) + "_hex"] =
        HexEncode(std::string_view(*raw).substr(0, kMaxAuditFieldBytes));
  }
  const std::string details =
      safe_details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (details.size() > kMaxAuditDetailsBytes) {
    return absl::InvalidArgumentError(fmt::format(
        "audit event {}: details larger than {} bytes", e.type, kMaxAuditDetailsBytes));
  }
  if (!JsonNestingWithin(details, kMaxDetailsDepth)) {
    return absl::InvalidArgumentError(fmt::format(
        "audit event {}: details nested deeper than {} levels", e.type, kMaxDetailsDepth));
  }
  AuditEvent out;
  out.type = ToValidUtf8(e.type);
  out.actor = Truncate(SafeField(e.actor), kMaxAuditFieldBytes);
  out.subject = Truncate(SafeField(e.subject), kMaxAuditFieldBytes);
  out.outcome = Truncate(SafeField(e.outcome), kMaxAuditFieldBytes);
  out.source = Truncate(SafeField(e.source), kMaxAuditFieldBytes);
  out.details = nlohmann::json::parse(details, nullptr, /*allow_exceptions=*/false);
  if (out.details.is_discarded()) return absl::InternalError("audit details do not round-trip");
  return out;
}

// A stored row with details still as text (Verify needs to tell corrupt
// JSON apart from a hash mismatch).
struct RawRow {
  int64_t seq;
  std::string time;
  AuditEvent event;
  std::string details_text;
  std::string prev_hash;
  std::string hash;
};

RawRow ReadRaw(const Statement& st) {
  RawRow r;
  r.seq = st.ColumnInt(0);
  r.time = st.ColumnText(1);
  r.event.type = st.ColumnText(2);
  r.event.actor = st.ColumnText(3);
  r.event.subject = st.ColumnText(4);
  r.event.outcome = st.ColumnText(5);
  r.event.source = st.ColumnText(6);
  r.details_text = st.ColumnText(7);
  r.prev_hash = st.ColumnText(8);
  r.hash = st.ColumnText(9);
  return r;
}

// Parses stored details; false if they are not JSON, or larger or deeper
// than Append() allows (the row was edited).
bool ParseDetails(RawRow& r) {
  if (r.details_text.size() > kMaxAuditDetailsBytes ||
      !JsonNestingWithin(r.details_text, kMaxDetailsDepth)) {
    r.event.details = nullptr;
    return false;
  }
  r.event.details = nlohmann::json::parse(r.details_text, nullptr, /*allow_exceptions=*/false);
  return !r.event.details.is_discarded();
}

VerifyResult Bad(int64_t rows_checked, std::optional<int64_t> seq, std::string message) {
  return VerifyResult{false, rows_checked, seq, std::move(message)};
}

// True iff the anchor file vouches for the head (seq, hash) that Append is
// about to extend: it names that head, or the row before it (an append whose
// anchor write failed), or neither a file nor more than that one row exists.
// Anything else is evidence (rows deleted, edited or added behind
// portcullisd's back) that rewriting the anchor would erase.
bool AnchorVouchesForHead(const std::string& path, int64_t head_seq, std::string_view head_hash,
                          std::string_view head_prev_hash) {
  absl::StatusOr<std::string> text = ReadFileBounded(path, kMaxAnchorFileBytes);
  if (absl::IsNotFound(text.status())) return head_seq <= 1;
  if (!text.ok()) return false;
  absl::StatusOr<AuditAnchor> anchor = ParseAuditAnchor(*text);
  if (!anchor.ok()) return false;
  if (anchor->seq == head_seq) return anchor->hash == head_hash;
  return anchor->seq == head_seq - 1 && anchor->hash == head_prev_hash;
}

}  // namespace

AuditLog::AuditLog(store::Database* db, const Clock* clock, std::string anchor_path)
    : db_(db), clock_(clock), anchor_path_(std::move(anchor_path)) {}

absl::StatusOr<int64_t> AuditLog::Append(const AuditEvent& e) {
  if (absl::Status st = ValidateEvent(e); !st.ok()) {
    // The message names the type and key only, never a value.
    spdlog::error("audit: {}", st.message());
    if (AbortOnCatalogueViolation()) {
      std::fprintf(stderr, "portcullis: aborting on an audit event outside the catalogue: %s\n",
                   std::string(st.message()).c_str());
      std::abort();
    }
    return st;
  }
  PC_ASSIGN_OR_RETURN(AuditEvent event, Normalise(e));
  const std::string details_text = event.details.dump();
  auto lock = db_->Lock();
  if (db_->InTransactionLocked()) {
    return absl::FailedPreconditionError(
        "AuditLog::Append must not be called inside Database::InTransaction");
  }
  int64_t seq = 0;
  std::string hash;
  bool anchor_vouches = true;
  PC_RETURN_IF_ERROR(db_->InTransaction([&]() -> absl::Status {
    std::string prev_hash(kGenesisPrevHash);
    std::string head_prev_hash(kGenesisPrevHash);
    {
      PC_ASSIGN_OR_RETURN(Statement head,
                          db_->Prepare("SELECT seq, hash, prev_hash FROM audit_log "
                                       "ORDER BY seq DESC LIMIT 1",
                                       "audit head"));
      PC_ASSIGN_OR_RETURN(bool row, head.Step());
      if (row) {
        seq = head.ColumnInt(0);
        prev_hash = head.ColumnText(1);
        head_prev_hash = head.ColumnText(2);
      }
    }
    if (!anchor_path_.empty()) {
      anchor_vouches = AnchorVouchesForHead(anchor_path_, seq, prev_hash, head_prev_hash);
    }
    ++seq;
    const std::string time = FormatUtc(clock_->Now(), /*micros=*/true);
    hash = AuditChainHash(prev_hash, CanonicalAuditJson(seq, time, event));
    PC_ASSIGN_OR_RETURN(
        Statement ins,
        db_->Prepare("INSERT INTO audit_log(seq, time, type, actor, subject, outcome, source, "
                     "details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "append audit event"));
    ins.BindInt(1, seq)
        .BindText(2, time)
        .BindText(3, event.type)
        .BindText(4, event.actor)
        .BindText(5, event.subject)
        .BindText(6, event.outcome)
        .BindText(7, event.source)
        .BindText(8, details_text)
        .BindText(9, prev_hash)
        .BindText(10, hash);
    return ins.Run();
  }));
  // A head the anchor does not vouch for was tampered with: keep the old
  // anchor so that Verify() goes on reporting it.
  if (!anchor_path_.empty() && anchor_vouches) {
    absl::Status st = WriteFileAtomic(anchor_path_, FormatAuditAnchor({seq, hash}), 0600);
    if (!st.ok()) {
      return absl::InternalError(
          fmt::format("audit row {} was written but the anchor could not be updated: {}", seq,
                      std::string(st.message())));
    }
  }
  return seq;
}

absl::StatusOr<std::vector<AuditRow>> AuditLog::List(const AuditFilter& f) const {
  if (f.limit < 1 || f.limit > kMaxAuditListLimit) {
    return absl::InvalidArgumentError(
        fmt::format("audit list limit must be 1 to {}", kMaxAuditListLimit));
  }
  std::string sql = fmt::format("{} WHERE 1 = 1", kSelectRow);
  if (f.since_unix) sql += " AND time >= ?1";
  if (f.type_prefix) sql += " AND substr(type, 1, length(?2)) = ?2";
  if (f.actor) sql += " AND actor = ?3";
  if (f.after_seq) sql += " AND seq > ?4";
  sql += f.newest ? " ORDER BY seq DESC LIMIT ?5" : " ORDER BY seq ASC LIMIT ?5";

  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare(sql, "list audit events"));
  // The stored time is fixed-width RFC 3339, so text order is time order.
  if (f.since_unix) st.BindText(1, FormatUtc(FromUnix(*f.since_unix), /*micros=*/true));
  if (f.type_prefix) st.BindText(2, *f.type_prefix);
  if (f.actor) st.BindText(3, *f.actor);
  if (f.after_seq) st.BindInt(4, *f.after_seq);
  st.BindInt(5, f.limit);
  std::vector<AuditRow> rows;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    RawRow raw = ReadRaw(st);
    if (!ParseDetails(raw)) {
      // Shown, not hidden: a reviewer investigating tampering needs the row.
      raw.event.details = nlohmann::json{{"_invalid_json", raw.details_text}};
    }
    rows.push_back(AuditRow{raw.seq, std::move(raw.time), std::move(raw.event),
                            std::move(raw.prev_hash), std::move(raw.hash)});
  }
  if (f.newest) std::reverse(rows.begin(), rows.end());
  return rows;
}

absl::StatusOr<VerifyResult> AuditLog::Verify() const {
  int64_t checked = 0;
  int64_t last_seq = 0;
  // Starts below 1 so that rows inserted with seq <= 0 are seen too.
  int64_t cursor = std::numeric_limits<int64_t>::min();
  std::string last_hash(kGenesisPrevHash);
  for (;;) {
    // Batches release the lock in between; the last batch and the anchor are
    // read under one lock, and Append writes row and anchor under it too.
    auto lock = db_->Lock();
    PC_ASSIGN_OR_RETURN(
        Statement st,
        db_->Prepare(fmt::format("{} WHERE seq > ? ORDER BY seq LIMIT ?", kSelectRow),
                     "verify audit log"));
    st.BindInt(1, cursor).BindInt(2, kVerifyBatch);
    int in_batch = 0;
    for (;;) {
      PC_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      ++in_batch;
      ++checked;
      RawRow r = ReadRaw(st);
      cursor = r.seq;
      if (r.seq <= last_seq) {
        return Bad(checked, r.seq,
                   fmt::format("row {}: sequence number out of range (row inserted)", r.seq));
      }
      if (r.seq != last_seq + 1) {
        return Bad(checked, last_seq + 1,
                   fmt::format("row {}: sequence gap after {} (next row is {}; row(s) deleted)",
                               last_seq + 1, last_seq, r.seq));
      }
      if (!ParseDetails(r)) {
        return Bad(checked, r.seq,
                   fmt::format("row {}: details are not valid JSON or too large (row edited)", r.seq));
      }
      if (AuditChainHash(r.prev_hash, CanonicalAuditJson(r.seq, r.time, r.event)) != r.hash) {
        return Bad(checked, r.seq, fmt::format("row {}: hash mismatch (row edited)", r.seq));
      }
      if (r.prev_hash != last_hash) {
        return Bad(checked, r.seq,
                   fmt::format("row {}: previous-hash link broken (row {} rewritten, or rows "
                               "reordered or deleted)",
                               r.seq, last_seq));
      }
      last_seq = r.seq;
      last_hash = std::move(r.hash);
    }
    if (in_batch == kVerifyBatch) continue;

    if (anchor_path_.empty()) {
      return VerifyResult{true, checked, std::nullopt,
                          fmt::format("{} rows verified (no anchor configured)", checked)};
    }
    absl::StatusOr<std::string> text = ReadFileBounded(anchor_path_, kMaxAnchorFileBytes);
    if (absl::IsNotFound(text.status())) {
      if (last_seq == 0) return VerifyResult{true, 0, std::nullopt, "audit log is empty"};
      return Bad(checked, std::nullopt,
                 fmt::format("anchor file {} is missing but the log has {} rows", anchor_path_,
                             last_seq));
    }
    if (!text.ok()) return text.status();
    absl::StatusOr<AuditAnchor> anchor = ParseAuditAnchor(*text);
    if (!anchor.ok()) {
      return Bad(checked, std::nullopt,
                 fmt::format("anchor file {}: {}", anchor_path_,
                             std::string(anchor.status().message())));
    }
    if (anchor->seq > last_seq) {
      return Bad(checked, last_seq + 1,
                 fmt::format("chain head mismatch: log ends at {} but anchor says {} (tail rows "
                             "deleted)",
                             last_seq, anchor->seq));
    }
    if (anchor->seq < last_seq) {
      // Rows after the anchor are fine only if the anchored row is intact.
      PC_ASSIGN_OR_RETURN(
          Statement at, db_->Prepare("SELECT hash FROM audit_log WHERE seq = ?", "audit anchor row"));
      at.BindInt(1, anchor->seq);
      PC_ASSIGN_OR_RETURN(bool found, at.Step());
      if (!found || at.ColumnText(0) != anchor->hash) {
        return Bad(checked, anchor->seq,
                   fmt::format("chain head mismatch: row {} hash differs from the anchor (rows "
                               "deleted or rewritten, then more appended)",
                               anchor->seq));
      }
      return Bad(checked, anchor->seq + 1,
                 fmt::format("chain head mismatch: log ends at {} but anchor says {} (rows "
                             "appended outside portcullisd, or an append was interrupted)",
                             last_seq, anchor->seq));
    }
    if (anchor->hash != last_hash) {
      return Bad(checked, last_seq,
                 fmt::format("chain head mismatch: row {} hash differs from the anchor (tail "
                             "rewritten)",
                             last_seq));
    }
    return VerifyResult{true, checked, std::nullopt,
                        fmt::format("{} rows verified; head matches the anchor", checked)};
  }
}

}  // namespace portcullis::audit
