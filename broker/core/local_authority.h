#pragma once
// LocalAuthority: the in-process Authority. Owns the SSH user CA; reads roles
// through a RoleTable. Thread-safe.

#include <memory>

#include "broker/core/authority.h"
#include "broker/core/role_table.h"

namespace portcullis::core {

class LocalAuthority final : public Authority {
 public:
  // `roles` must outlive this.
  LocalAuthority(std::unique_ptr<ca::SshCertificateAuthority> ssh_ca, RoleTable* roles)
      : ssh_ca_(std::move(ssh_ca)), roles_(roles) {}

  policy::Decision Decide(const policy::AccessRequest& req) override;
  bool CanSee(const std::vector<std::string>& role_names,
              const policy::TargetInfo& target) override;
  absl::StatusOr<ca::IssuedCertificate> IssueTargetCertificate(
      const ca::TargetCertRequest& req) override;
  std::string SshUserCaLine() const override { return ssh_ca_->ExportLine(); }

 private:
  std::unique_ptr<ca::SshCertificateAuthority> ssh_ca_;
  RoleTable* roles_;
};

}  // namespace portcullis::core
