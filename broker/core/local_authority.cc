#include "broker/core/local_authority.h"

#include <fmt/format.h>

#include "auth/ca/ssh_certificate.h"
#include "broker/common/absl_fmt.h"
#include "recorder/seal_format.h"

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

absl::StatusOr<ca::IssuedCertificate> LocalAuthority::IssueLoginCertificate(
    const ca::LoginBinding& binding, std::string_view subject_public_blob,
    std::chrono::seconds ttl) {
  const std::string& user = binding.user;
  if (user.empty() || user.size() > 64 || user.find('/') != std::string::npos)
    return absl::InvalidArgumentError("login certificate: bad user name");
  if (binding.user_id < 1 || binding.generation < 1)
    return absl::InvalidArgumentError("login certificate: no user binding");
  if (ttl.count() <= 0 || ttl > std::chrono::hours(24))
    return absl::InvalidArgumentError("login certificate: lifetime must be 1s..24h");
  // A wire blob starts with a 4-byte big-endian length, hence a NUL byte;
  // ParsePublicKeyLine takes such input as a blob.
  if (subject_public_blob.empty() || subject_public_blob[0] != '\0')
    return absl::InvalidArgumentError("login certificate: expected an SSH public key blob");
  auto key = ca::ParsePublicKeyLine(subject_public_blob);
  if (!key.ok())
    return absl::InvalidArgumentError(
        fmt::format("login certificate: public key refused: {}", key.status().message()));
  const int64_t now = clock_->NowUnix();
  ca::CertificateFields f;
  f.subject_public_blob = key->blob;
  {
    std::lock_guard<std::mutex> lock(login_mu_);
    f.serial = login_serials_();
  }
  f.type = ca::kCertTypeUser;
  f.key_id = ca::LoginKeyId(binding);
  f.principals = {user};
  f.valid_after = static_cast<uint64_t>(now - ca::SshCertificateAuthority::kBackdate.count());
  f.valid_before = static_cast<uint64_t>(now + ttl.count());
  f.extensions = {"permit-port-forwarding", "permit-pty"};
  auto blob = ca::SignCertificate(f, login_ca_);
  if (!blob.ok()) return blob.status();
  ca::IssuedCertificate out;
  out.blob = *blob;
  out.line = ca::CertificateLine(*blob, f.key_id);
  out.serial = f.serial;
  out.key_id = f.key_id;
  out.valid_after = f.valid_after;
  out.valid_before = f.valid_before;
  return out;
}

absl::StatusOr<std::string> LocalAuthority::SignRecordingSeal(std::string_view payload) {
  // A seal payload (recorder::IsSealPayload), and no bigger than one: a
  // checkpoint is one line, a manifest at most kMaxManifestBytes.
  const bool manifest = payload.substr(0, recorder::kManifestPrefix.size()) ==
                        recorder::kManifestPrefix;
  const bool fits = manifest ? payload.size() <= recorder::kMaxManifestBytes
                             : payload.size() <= recorder::kMaxCheckpointLine &&
                                   payload.find('\n') == std::string_view::npos;
  if (!recorder::IsSealPayload(payload) || !fits) {
    return absl::InvalidArgumentError(
        "recording key: refusing to sign something that is not a checkpoint line or a manifest");
  }
  return recording_key_.Sign(payload);
}

absl::Status LocalAuthority::VerifyLoginCertificate(std::string_view cert_blob,
                                                    std::string_view user) {
  auto parsed = ca::ParseCertificate(cert_blob);
  if (!parsed.ok()) return parsed.status();
  return ca::VerifyUserCertificate(*parsed, login_ca_.PublicBlob(),
                                   static_cast<uint64_t>(clock_->NowUnix()), user);
}

}  // namespace portcullis::core
