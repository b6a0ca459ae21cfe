#pragma once
// LocalAuthority: the in-process Authority. Owns the SSH user CA, the login
// CA and the recording key; reads roles through a RoleTable, and opens
// vaulted target secrets with the broker's SecretBox. Thread-safe.

#include <functional>
#include <memory>
#include <mutex>

#include "broker/core/authority.h"
#include "broker/core/role_table.h"
#include "broker/core/target_vault.h"

namespace portcullis::core {

class LocalAuthority final : public Authority {
 public:
  // `roles`, `clock`, `targets` and `box` must outlive this.
  // `login_serials` returns a fresh serial for each login certificate.
  LocalAuthority(std::unique_ptr<ca::SshCertificateAuthority> ssh_ca, ca::Ed25519Key login_ca,
                 ca::Ed25519Key recording_key, RoleTable* roles, const Clock* clock,
                 std::function<uint64_t()> login_serials, store::TargetRepo* targets,
                 const auth::SecretBox* box)
      : ssh_ca_(std::move(ssh_ca)),
        login_ca_(std::move(login_ca)),
        recording_key_(std::move(recording_key)),
        recording_public_(recording_key_.PublicRaw()),
        roles_(roles),
        clock_(clock),
        login_serials_(std::move(login_serials)),
        targets_(targets),
        box_(box) {}

  policy::Decision Decide(const policy::AccessRequest& req) override;
  bool CanSee(const std::vector<std::string>& role_names,
              const policy::TargetInfo& target) override;
  absl::StatusOr<ca::IssuedCertificate> IssueTargetCertificate(
      const ca::TargetCertRequest& req) override;
  std::string SshUserCaLine() const override { return ssh_ca_->ExportLine(); }
  absl::StatusOr<ca::IssuedCertificate> IssueLoginCertificate(
      const ca::LoginBinding& binding, std::string_view subject_public_blob,
      std::chrono::seconds ttl) override;
  absl::Status VerifyLoginCertificate(std::string_view cert_blob, std::string_view user) override;
  // Signs only checkpoint lines ("portcullis-checkpoint/1 ...", one line of
  // at most recorder::kMaxCheckpointLine bytes) and manifests (starting with
  // recorder::kManifestPrefix, at most recorder::kMaxManifestBytes).
  absl::StatusOr<std::string> SignRecordingSeal(std::string_view payload) override;
  std::string RecordingPublicKey() const override { return recording_public_; }
  absl::StatusOr<VaultedSecret> OpenTargetSecret(std::string_view target,
                                                 std::string_view login) override {
    return core::OpenTargetSecret(*targets_, *box_, target, login);
  }

 private:
  std::unique_ptr<ca::SshCertificateAuthority> ssh_ca_;
  const ca::Ed25519Key login_ca_;
  const ca::Ed25519Key recording_key_;
  const std::string recording_public_;
  RoleTable* roles_;
  const Clock* clock_;
  std::function<uint64_t()> login_serials_;
  std::mutex login_mu_;  // serialises login_serials_
  store::TargetRepo* targets_;
  const auth::SecretBox* box_;
};

}  // namespace portcullis::core
