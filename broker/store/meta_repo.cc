#include "broker/store/meta_repo.h"

#include <fmt/format.h>

#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {

MetaRepo::MetaRepo(Database* db) : db_(db) {}

absl::StatusOr<std::string> MetaRepo::Get(std::string_view key) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("SELECT value FROM meta WHERE key = ?", "get metadata"));
  st.BindText(1, key);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::NotFoundError(fmt::format("metadata key {} not found", key));
  return st.ColumnBlob(0);
}

absl::Status MetaRepo::Put(std::string_view key, std::string_view value) {
  PC_RETURN_IF_ERROR(CheckName("metadata key", key));
  PC_RETURN_IF_ERROR(CheckSize("metadata value", value));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("INSERT INTO meta(key, value) VALUES (?, ?) "
                                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                   "put metadata"));
  st.BindText(1, key).BindBlob(2, value);
  return st.Run();
}

absl::StatusOr<uint64_t> MetaRepo::NextCounter(std::string_view key) {
  PC_RETURN_IF_ERROR(CheckName("counter name", key));
  auto lock = db_->Lock();
  // One statement: the increment and the read are atomic, also across
  // processes (SQLite takes the write lock for the whole statement).
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("INSERT INTO counters(key, value) VALUES (?, 1) "
                                   "ON CONFLICT(key) DO UPDATE SET value = value + 1 "
                                   "RETURNING value",
                                   "next counter"));
  st.BindText(1, key);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return absl::InternalError("next counter returned no value");
  const int64_t value = st.ColumnInt(0);
  PC_RETURN_IF_ERROR(st.Run());
  if (value <= 0) return absl::DataLossError(fmt::format("counter {} is corrupt", key));
  return static_cast<uint64_t>(value);
}

}  // namespace portcullis::store
