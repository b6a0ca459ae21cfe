#include "broker/core/local_authority.h"

namespace portcullis::core {

policy::Decision LocalAuthority::Decide(const policy::AccessRequest& req) {
  auto table = roles_->Snapshot();
  return policy::Decide(*table, req);
}

bool LocalAuthority::CanSee(const std::vector<std::string>& role_names,
                            const policy::TargetInfo& target) {
  auto table = roles_->Snapshot();
  return policy::CanSeeTarget(*table, role_names, target);
}

absl::StatusOr<ca::IssuedCertificate> LocalAuthority::IssueTargetCertificate(
    const ca::TargetCertRequest& req) {
  return ssh_ca_->IssueTargetCertificate(req);
}

}  // namespace portcullis::core
