#include "broker/daemon/tls_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "broker/audit/audit_log.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"
#include "broker/config/config.h"
#include "broker/store/database.h"
#include "broker/tls/server_identity.h"
#include "broker/tls/tls_import.h"

namespace portcullis::daemon {
namespace {

constexpr size_t kMaxInputBytes = 1 << 20;

absl::StatusOr<std::string> ReadInput(std::string_view flag, const std::string& path) {
  auto text = ReadFileBounded(path, kMaxInputBytes);
  if (!text.ok()) return absl::Status(text.status().code(), fmt::format("{}: {}", flag, text.status().message()));
  return text;
}

std::string OsUser() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr ? std::string(pw->pw_name) : fmt::format("uid {}", ::getuid());
}

// The fingerprint of what the API serves now ("" if it cannot be read).
std::string CurrentFingerprint(const config::BrokerConfig& cfg) {
  auto id = tls::LoadServerIdentity(
      {cfg.TlsServerCertPath(), cfg.TlsServerKeyPath(), cfg.TlsImportedPath()});
  if (!id.ok()) return "";
  auto certs = tls::ParsePemCertificates(id->cert_chain_pem, "current");
  if (!certs.ok()) return "";
  return tls::Summarise((*certs)[0].get()).sha256_fingerprint;
}

std::string Utc(int64_t unix_seconds) { return FormatUtc(FromUnix(unix_seconds)); }

}  // namespace

absl::Status RunTlsImport(const TlsImportOptions& opts, const Clock* clock, std::ostream& out) {
  PC_ASSIGN_OR_RETURN(config::BrokerConfig cfg, config::LoadConfig(opts.config_path));
  if (!PathExists(cfg.DbPath()) || !PathExists(cfg.TlsDir())) {
    return absl::FailedPreconditionError(fmt::format(
        "{} is not initialised; run `portcullisd init` first", cfg.data_dir));
  }
  PC_ASSIGN_OR_RETURN(std::string cert_pem, ReadInput("--cert", opts.cert_path));
  PC_ASSIGN_OR_RETURN(std::string key_text, ReadInput("--key", opts.key_path));
  tls::KeyPemText key_pem(std::move(key_text));
  std::string chain_pem;
  if (!opts.chain_path.empty()) {
    PC_ASSIGN_OR_RETURN(chain_pem, ReadInput("--chain", opts.chain_path));
    if (chain_pem.empty()) {
      return absl::InvalidArgumentError(fmt::format("--chain: {} is empty", opts.chain_path));
    }
  }

  tls::ImportRequest req;
  req.cert_pem = cert_pem;
  req.key_pem = key_pem.Reveal();
  req.chain_pem = chain_pem;
  req.expected_names = cfg.tls_server_names;
  req.expected_names.insert(req.expected_names.begin(), cfg.grpc.host);
  PC_ASSIGN_OR_RETURN(tls::ValidatedIdentity identity,
                      tls::ValidateServerIdentity(req, clock->Now()));

  // The store first: a data directory whose audit log cannot be written
  // gets no new identity.
  PC_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                      store::Database::Open(cfg.DbPath(), clock));
  audit::AuditLog audit(db.get(), clock, cfg.AuditAnchorPath());
  const std::string replaces = CurrentFingerprint(cfg);

  const tls::InstallPaths paths{cfg.TlsImportedPath(), cfg.TlsImportedBackupPath()};
  PC_ASSIGN_OR_RETURN(tls::PreviousIdentity previous,
                      tls::InstallImportedIdentity(paths, identity));

  audit::AuditEvent ev;
  ev.type = "tls.imported";
  ev.actor = "system";
  ev.subject = identity.leaf.subject;
  ev.outcome = "success";
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& c : identity.chain) chain.push_back(c.subject);
  ev.details = {{"subject", identity.leaf.subject},
                {"issuer", identity.leaf.issuer},
                {"sha256_fingerprint", identity.leaf.sha256_fingerprint},
                {"serial", identity.leaf.serial},
                {"not_before", Utc(identity.leaf.not_before_unix)},
                {"not_after", Utc(identity.leaf.not_after_unix)},
                {"sans", identity.leaf.sans},
                {"key_type", identity.key_type},
                {"chain", chain},
                {"replaces_sha256_fingerprint", replaces},
                {"os_user", OsUser()}};
  if (auto appended = audit.Append(ev); !appended.ok()) {
    absl::Status rollback = tls::RollBackInstall(paths, previous);
    return absl::Status(
        appended.status().code(),
        fmt::format("cannot write the audit event ({}); {}", appended.status().message(),
                    rollback.ok() ? "the previous certificate was put back"
                                  : "putting the previous certificate back failed too: " +
                                        std::string(rollback.message())));
  }

  out << "Imported the API certificate into " << paths.imported << "\n"
      << "  subject:      " << identity.leaf.subject << "\n"
      << "  issuer:       " << identity.leaf.issuer << "\n"
      << "  SHA-256:      " << identity.leaf.sha256_fingerprint << "\n"
      << "  valid:        " << Utc(identity.leaf.not_before_unix) << " .. "
      << Utc(identity.leaf.not_after_unix) << "\n"
      << "  names:        " << fmt::format("{}", fmt::join(identity.leaf.sans, ", ")) << "\n"
      << "  key:          " << identity.key_type << "\n";
  for (const auto& c : identity.chain) out << "  chain:        " << c.subject << "\n";
  if (previous.existed) out << "Previous import kept as " << paths.backup << "\n";
  for (const auto& w : identity.warnings) out << "warning: " << w << "\n";
  out << "\nRestart portcullisd to serve it. Clients now trust your PKI's CA:\n"
      << "  portcullis login --broker " << cfg.grpc.ToString() << " --ca YOUR-CA.pem --user NAME\n";
  return absl::OkStatus();
}

}  // namespace portcullis::daemon
