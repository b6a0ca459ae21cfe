#include "broker/store/recording_repo.h"

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {
namespace {

constexpr std::string_view kColumns =
    "id, session_id, channel, user, login, target, protocol, source, command, path, started_us, "
    "ended_us, size, sha256, state, end_reason, failure, legal_hold, deleted_at";

bool ValidSessionId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidState(std::string_view s) {
  return s == kRecordingActive || s == kRecordingComplete || s == kRecordingTruncated ||
         s == kRecordingFailed;
}

absl::Status Validate(const RecordingRecord& r) {
  if (!ValidSessionId(r.session_id))
    return absl::InvalidArgumentError("recording session id must be 1-64 of [A-Za-z0-9_-]");
  if (r.channel < 0) return absl::InvalidArgumentError("recording channel must not be negative");
  if (r.id != r.session_id + "." + std::to_string(r.channel))
    return absl::InvalidArgumentError("recording id must be <session_id>.<channel>");
  PC_RETURN_IF_ERROR(CheckName("recording user", r.user));
  for (const auto* f : {&r.protocol, &r.login, &r.target, &r.source, &r.command, &r.end_reason, &r.failure,
                        &r.sha256_hex}) {
    PC_RETURN_IF_ERROR(CheckSize("recording field", *f, RecordingRepo::kMaxFieldBytes));
  }
  if (!IsContainedRelativePath(r.path) || r.path.size() > RecordingRepo::kMaxFieldBytes)
    return absl::InvalidArgumentError("recording path must be relative to the recordings directory");
  if (!ValidState(r.state)) return absl::InvalidArgumentError("bad recording state");
  return absl::OkStatus();
}

RecordingRecord FromRow(const Statement& st) {
  RecordingRecord r;
  r.id = st.ColumnText(0);
  r.session_id = st.ColumnText(1);
  r.channel = static_cast<int>(st.ColumnInt(2));
  r.user = st.ColumnText(3);
  r.login = st.ColumnText(4);
  r.target = st.ColumnText(5);
  r.protocol = st.ColumnText(6);
  r.source = st.ColumnText(7);
  r.command = st.ColumnText(8);
  r.path = st.ColumnText(9);
  r.started_us = st.ColumnInt(10);
  r.ended_us = st.ColumnInt(11);
  r.size = static_cast<uint64_t>(st.ColumnInt(12));
  r.sha256_hex = st.ColumnText(13);
  r.state = st.ColumnText(14);
  r.end_reason = st.ColumnText(15);
  r.failure = st.ColumnText(16);
  r.legal_hold = st.ColumnInt(17) != 0;
  r.deleted_at = st.ColumnInt(18);
  return r;
}

absl::StatusOr<std::vector<RecordingRecord>> Collect(Statement& st) {
  std::vector<RecordingRecord> out;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(FromRow(st));
  }
  return out;
}

absl::Status NotFound(std::string_view id) {
  return absl::NotFoundError(fmt::format("no recording {}", id.size() <= 128 ? id : "(long id)"));
}

}  // namespace

bool IsContainedRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return path.find('\0') == std::string_view::npos;
}

RecordingRepo::RecordingRepo(Database* db) : db_(db) {}

absl::Status RecordingRepo::Insert(const RecordingRecord& r) {
  PC_RETURN_IF_ERROR(Validate(r));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(fmt::format("INSERT INTO recordings({}) VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               kColumns),
                   "insert recording"));
  st.BindText(1, r.id)
      .BindText(2, r.session_id)
      .BindInt(3, r.channel)
      .BindText(4, r.user)
      .BindText(5, r.login)
      .BindText(6, r.target)
      .BindText(7, r.protocol)
      .BindText(8, r.source)
      .BindText(9, r.command)
      .BindText(10, r.path)
      .BindInt(11, r.started_us)
      .BindInt(12, r.ended_us)
      .BindInt(13, static_cast<int64_t>(r.size))
      .BindText(14, r.sha256_hex)
      .BindText(15, r.state)
      .BindText(16, r.end_reason)
      .BindText(17, r.failure)
      .BindInt(18, r.legal_hold ? 1 : 0)
      .BindInt(19, r.deleted_at);
  absl::Status status = st.Run();
  if (absl::IsAlreadyExists(status))
    return absl::AlreadyExistsError(fmt::format("recording {} already exists", r.id));
  return status;
}

absl::StatusOr<RecordingRecord> RecordingRepo::Get(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return NotFound(id);
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(fmt::format("SELECT {} FROM recordings WHERE id = ?", kColumns), "get recording"));
  st.BindText(1, id);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound(id);
  return FromRow(st);
}

absl::StatusOr<std::vector<RecordingRecord>> RecordingRepo::List(const RecordingFilter& f) {
  if (f.limit < 1 || f.limit > 100000)
    return absl::InvalidArgumentError("recording list limit must be 1-100000");
  std::string sql = fmt::format("SELECT {} FROM recordings WHERE 1", kColumns);
  if (f.user) sql += " AND user = ?";
  if (f.target) sql += " AND target = ?";
  if (f.since_us) sql += " AND started_us >= ?";
  if (!f.include_deleted) sql += " AND deleted_at = 0";
  sql += " ORDER BY started_us DESC, id LIMIT ?";
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare(sql, "list recordings"));
  int i = 1;
  if (f.user) st.BindText(i++, *f.user);
  if (f.target) st.BindText(i++, *f.target);
  if (f.since_us) st.BindInt(i++, *f.since_us);
  st.BindInt(i, f.limit);
  return Collect(st);
}

absl::Status RecordingRepo::Finish(std::string_view id, const RecordingEndRecord& end) {
  if (end.state != kRecordingComplete && end.state != kRecordingFailed)
    return absl::InvalidArgumentError("a recording ends complete or failed");
  for (const auto* f : {&end.end_reason, &end.failure, &end.sha256_hex}) {
    PC_RETURN_IF_ERROR(CheckSize("recording field", *f, kMaxFieldBytes));
  }
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE recordings SET state = ?, end_reason = ?, failure = ?, ended_us = ?, "
                   "size = ?, sha256 = ? WHERE id = ? AND state = 'recording'",
                   "finish recording"));
  st.BindText(1, end.state)
      .BindText(2, end.end_reason)
      .BindText(3, end.failure)
      .BindInt(4, end.ended_us)
      .BindInt(5, static_cast<int64_t>(end.size))
      .BindText(6, end.sha256_hex)
      .BindText(7, id);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 1) return absl::OkStatus();
  PC_ASSIGN_OR_RETURN(RecordingRecord r, Get(id));
  return absl::FailedPreconditionError(
      fmt::format("recording {} already ended ({})", r.id, r.state));
}

absl::StatusOr<std::vector<RecordingRecord>> RecordingRepo::ListActive() {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(fmt::format("SELECT {} FROM recordings WHERE state = 'recording' ORDER BY id",
                               kColumns),
                   "list active recordings"));
  return Collect(st);
}

absl::Status RecordingRepo::MarkTruncated(std::string_view id, uint64_t size, int64_t ended_us,
                                          std::string_view failure) {
  PC_RETURN_IF_ERROR(CheckSize("recording failure", failure, kMaxFieldBytes));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE recordings SET state = 'truncated', size = ?, ended_us = ?, "
                   "failure = ?, end_reason = 'broker-stopped' "
                   "WHERE id = ? AND state = 'recording'",
                   "mark recording truncated"));
  st.BindInt(1, static_cast<int64_t>(size)).BindInt(2, ended_us).BindText(3, failure).BindText(4, id);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return NotFound(id);
  return absl::OkStatus();
}

absl::Status RecordingRepo::SetLegalHold(std::string_view id, bool hold) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(RecordingRecord r, Get(id));
  if (r.deleted()) {
    return absl::FailedPreconditionError(
        fmt::format("recording {} was deleted by retention; nothing to hold", r.id));
  }
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("UPDATE recordings SET legal_hold = ? WHERE id = ?",
                                   "set recording legal hold"));
  st.BindInt(1, hold ? 1 : 0).BindText(2, id);
  return st.Run();
}

absl::StatusOr<std::vector<RecordingRecord>> RecordingRepo::ListExpired(int64_t cutoff_us,
                                                                        int limit) {
  if (limit < 1) return absl::InvalidArgumentError("limit must be positive");
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare(fmt::format("SELECT {} FROM recordings WHERE deleted_at = 0 AND legal_hold = 0 "
                               "AND state != 'recording' "
                               "AND (CASE WHEN ended_us != 0 THEN ended_us ELSE started_us END) < ? "
                               "ORDER BY started_us, id LIMIT ?",
                               kColumns),
                   "list expired recordings"));
  st.BindInt(1, cutoff_us).BindInt(2, limit);
  return Collect(st);
}

absl::Status RecordingRepo::MarkDeleted(std::string_view id, int64_t now_unix) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE recordings SET deleted_at = ? "
                   "WHERE id = ? AND deleted_at = 0 AND legal_hold = 0",
                   "mark recording deleted"));
  st.BindInt(1, now_unix > 0 ? now_unix : 1).BindText(2, id);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 1) return absl::OkStatus();
  PC_ASSIGN_OR_RETURN(RecordingRecord r, Get(id));
  return absl::FailedPreconditionError(fmt::format(
      "recording {} is {}", r.id, r.deleted() ? "already deleted" : "on legal hold"));
}

}  // namespace portcullis::store
