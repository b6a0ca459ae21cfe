#include "broker/store/target_repo.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "broker/common/bounded_reader.h"
#include "broker/common/status_macros.h"
#include "broker/store/validation.h"

namespace portcullis::store {
namespace {

constexpr size_t kMaxSealedBytes = 64 * 1024;
constexpr size_t kMaxHostKeyBytes = 64 * 1024;
constexpr size_t kMaxLabels = 256;

constexpr std::string_view kSelectTarget =
    "SELECT name, address, protocol, labels, host_key, crypto_profile, vaulted_secret_sealed, "
    "created_at, auth FROM targets";

absl::Status TargetNotFound(std::string_view name) {
  return absl::NotFoundError(fmt::format("target {} not found", name));
}

absl::Status Validate(const TargetRecord& t) {
  PC_RETURN_IF_ERROR(CheckName("target name", t.name));
  PC_RETURN_IF_ERROR(CheckName("target address", t.address));
  if (!IsKnownProtocol(t.protocol)) {
    return absl::InvalidArgumentError(
        fmt::format("target {}: protocol must be ssh, rdp, vnc or tcp", t.name));
  }
  PC_RETURN_IF_ERROR(CheckName("crypto profile", t.crypto_profile));
  if (!IsKnownTargetAuth(t.auth)) {
    return absl::InvalidArgumentError(
        fmt::format("target {}: auth must be certificate, password, key or none", t.name));
  }
  PC_RETURN_IF_ERROR(CheckSize("host key", t.host_key, kMaxHostKeyBytes));
  PC_RETURN_IF_ERROR(CheckSize("vaulted secret", t.vaulted_secret_sealed, kMaxSealedBytes));
  if (t.labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(
        fmt::format("target {}: more than {} labels", t.name, kMaxLabels));
  }
  for (const auto& [key, value] : t.labels) {
    PC_RETURN_IF_ERROR(CheckName("label key", key));
    PC_RETURN_IF_ERROR(CheckSize("label value", value, kMaxNameBytes));
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
      return absl::InvalidArgumentError(
          fmt::format("target {}: labels must be valid UTF-8", t.name));
    }
  }
  return absl::OkStatus();
}

std::string LabelsToJson(const std::map<std::string, std::string>& labels) {
  // Validate() has checked UTF-8, so dump() cannot throw.
  return nlohmann::json(labels).dump();
}

absl::StatusOr<std::map<std::string, std::string>> LabelsFromJson(std::string_view name,
                                                                  const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(fmt::format("target {}: stored labels are corrupt", name));
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return absl::DataLossError(fmt::format("target {}: stored labels are corrupt", name));
    }
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

absl::StatusOr<TargetRecord> ReadTarget(const Statement& st) {
  TargetRecord t;
  t.name = st.ColumnText(0);
  t.address = st.ColumnText(1);
  t.protocol = st.ColumnText(2);
  PC_ASSIGN_OR_RETURN(t.labels, LabelsFromJson(t.name, st.ColumnText(3)));
  t.host_key = st.ColumnText(4);
  t.crypto_profile = st.ColumnText(5);
  t.vaulted_secret_sealed = st.ColumnBlob(6);
  t.created_at = st.ColumnInt(7);
  t.auth = st.ColumnText(8);
  return t;
}

absl::Status ValidateSecret(const TargetSecretRecord& s) {
  PC_RETURN_IF_ERROR(CheckName("target name", s.info.target));
  PC_RETURN_IF_ERROR(CheckSize("login", s.info.login, kMaxNameBytes));
  PC_RETURN_IF_ERROR(CheckSize("domain", s.info.domain, kMaxNameBytes));
  PC_RETURN_IF_ERROR(CheckName("secret author", s.info.set_by));
  if (s.info.kind != "password" && s.info.kind != "key") {
    return absl::InvalidArgumentError("secret kind must be password or key");
  }
  if (s.sealed.empty()) return absl::InvalidArgumentError("sealed secret is empty");
  return CheckSize("sealed secret", s.sealed, kMaxSealedBytes);
}

}  // namespace

bool IsKnownProtocol(std::string_view protocol) {
  return protocol == "ssh" || protocol == "rdp" || protocol == "vnc" || protocol == "tcp";
}

bool IsKnownTargetAuth(std::string_view auth) {
  return auth == "certificate" || auth == "password" || auth == "key" || auth == "none";
}

TargetRepo::TargetRepo(Database* db) : db_(db) {}

absl::Status TargetRepo::Create(const TargetRecord& t) {
  PC_RETURN_IF_ERROR(Validate(t));
  const int64_t created_at = t.created_at != 0 ? t.created_at : db_->clock()->NowUnix();
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("INSERT INTO targets(name, address, protocol, labels, host_key, crypto_profile, "
                   "vaulted_secret_sealed, created_at, auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "insert target"));
  st.BindText(1, t.name)
      .BindText(2, t.address)
      .BindText(3, t.protocol)
      .BindText(4, LabelsToJson(t.labels))
      .BindText(5, t.host_key)
      .BindText(6, t.crypto_profile)
      .BindBlob(7, t.vaulted_secret_sealed)
      .BindInt(8, created_at)
      .BindText(9, t.auth);
  absl::Status status = st.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(fmt::format("target {} already exists", t.name));
  }
  return status;
}

absl::StatusOr<TargetRecord> TargetRepo::Get(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare(fmt::format("{} WHERE name = ?", kSelectTarget), "get target"));
  st.BindText(1, name);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return TargetNotFound(name);
  return ReadTarget(st);
}

absl::StatusOr<std::vector<TargetRecord>> TargetRepo::List() {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare(fmt::format("{} ORDER BY name", kSelectTarget),
                                                 "list targets"));
  std::vector<TargetRecord> out;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    PC_ASSIGN_OR_RETURN(TargetRecord t, ReadTarget(st));
    out.push_back(std::move(t));
  }
  return out;
}

absl::Status TargetRepo::Update(const TargetRecord& t) {
  PC_RETURN_IF_ERROR(Validate(t));
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("UPDATE targets SET address = ?, protocol = ?, labels = ?, host_key = ?, "
                   "crypto_profile = ?, vaulted_secret_sealed = ?, auth = ? WHERE name = ?",
                   "update target"));
  st.BindText(1, t.address)
      .BindText(2, t.protocol)
      .BindText(3, LabelsToJson(t.labels))
      .BindText(4, t.host_key)
      .BindText(5, t.crypto_profile)
      .BindBlob(6, t.vaulted_secret_sealed)
      .BindText(7, t.auth)
      .BindText(8, t.name);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return TargetNotFound(t.name);
  return absl::OkStatus();
}

absl::Status TargetRepo::Delete(std::string_view name) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("DELETE FROM targets WHERE name = ?", "delete target"));
  st.BindText(1, name);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return TargetNotFound(name);
  return absl::OkStatus();
}

absl::Status TargetRepo::PinHostKey(std::string_view name, std::string_view host_key) {
  if (host_key.empty()) return absl::InvalidArgumentError("host key is empty");
  PC_RETURN_IF_ERROR(CheckSize("host key", host_key, kMaxHostKeyBytes));
  return db_->InTransaction([&]() -> absl::Status {
    std::string pinned;
    {
      PC_ASSIGN_OR_RETURN(Statement st, db_->Prepare("SELECT host_key FROM targets WHERE name = ?",
                                                     "read host key"));
      st.BindText(1, name);
      PC_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return TargetNotFound(name);
      pinned = st.ColumnText(0);
    }
    if (pinned == host_key) return absl::OkStatus();
    if (!pinned.empty()) {
      return absl::FailedPreconditionError(
          fmt::format("target {}: host key differs from the pinned one", name));
    }
    PC_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE targets SET host_key = ? WHERE name = ?",
                                                   "pin host key"));
    up.BindText(1, host_key).BindText(2, name);
    return up.Run();
  });
}

absl::Status TargetRepo::SetSecret(const TargetSecretRecord& s) {
  PC_RETURN_IF_ERROR(ValidateSecret(s));
  const int64_t set_at = s.info.set_at != 0 ? s.info.set_at : db_->clock()->NowUnix();
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("INSERT INTO target_secrets(target, login, kind, sealed, domain, set_at, set_by) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(target, login) DO UPDATE SET "
                   "kind = excluded.kind, sealed = excluded.sealed, domain = excluded.domain, "
                   "set_at = excluded.set_at, set_by = excluded.set_by",
                   "set target secret"));
  st.BindText(1, s.info.target)
      .BindText(2, s.info.login)
      .BindText(3, s.info.kind)
      .BindBlob(4, s.sealed)
      .BindText(5, s.info.domain)
      .BindInt(6, set_at)
      .BindText(7, s.info.set_by);
  absl::Status status = st.Run();
  if (absl::IsFailedPrecondition(status)) return TargetNotFound(s.info.target);  // foreign key
  return status;
}

absl::Status TargetRepo::RemoveSecret(std::string_view target, std::string_view login) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(Statement st,
                      db_->Prepare("DELETE FROM target_secrets WHERE target = ? AND login = ?",
                                   "remove target secret"));
  st.BindText(1, target).BindText(2, login);
  PC_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) {
    return absl::NotFoundError(
        fmt::format("target {} has no secret for {}", target, login.empty() ? "(no login)" : login));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TargetSecretInfo>> TargetRepo::ListSecretInfo(std::string_view target) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("SELECT target, login, kind, domain, set_at, set_by FROM target_secrets "
                   "WHERE target = ? ORDER BY login",
                   "list target secrets"));
  st.BindText(1, target);
  std::vector<TargetSecretInfo> out;
  for (;;) {
    PC_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    TargetSecretInfo i;
    i.target = st.ColumnText(0);
    i.login = st.ColumnText(1);
    i.kind = st.ColumnText(2);
    i.domain = st.ColumnText(3);
    i.set_at = st.ColumnInt(4);
    i.set_by = st.ColumnText(5);
    out.push_back(std::move(i));
  }
  return out;
}

absl::StatusOr<TargetSecretRecord> TargetRepo::GetSealedSecret(std::string_view target,
                                                               std::string_view login) {
  auto lock = db_->Lock();
  PC_ASSIGN_OR_RETURN(
      Statement st,
      db_->Prepare("SELECT target, login, kind, domain, set_at, set_by, sealed FROM target_secrets "
                   "WHERE target = ? AND login = ?",
                   "get target secret"));
  st.BindText(1, target).BindText(2, login);
  PC_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) {
    return absl::NotFoundError(fmt::format("no secret vaulted for {}",
                                           login.empty() ? "(no login)" : login));
  }
  TargetSecretRecord r;
  r.info.target = st.ColumnText(0);
  r.info.login = st.ColumnText(1);
  r.info.kind = st.ColumnText(2);
  r.info.domain = st.ColumnText(3);
  r.info.set_at = st.ColumnInt(4);
  r.info.set_by = st.ColumnText(5);
  r.sealed = st.ColumnBlob(6);
  return r;
}

}  // namespace portcullis::store
