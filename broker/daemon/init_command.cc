#include "broker/daemon/init_command.h"

#include <fmt/format.h>

#include <filesystem>

#include "auth/ca/ed25519_key.h"
#include "auth/identity/password.h"
#include "auth/identity/qr.h"
#include "auth/identity/secret_box.h"
#include "broker/common/files.h"
#include "broker/config/config.h"
#include "broker/core/broker.h"
#include "broker/core/user_admin.h"
#include "broker/store/database.h"
#include "broker/tls/tls_material.h"

namespace portcullis::daemon {

absl::Status RunInit(const InitOptions& opts, const SecretBytes& admin_password, const Clock* clock,
                     std::ostream& out) {
  if (auto st = core::ValidateUserName(opts.admin); !st.ok()) return st;
  if (auto st = auth::CheckPasswordAcceptable(admin_password); !st.ok()) return st;
  bool wrote_config = false;
  if (!PathExists(opts.config_path)) {
    std::filesystem::path parent = std::filesystem::absolute(opts.config_path).parent_path();
    if (auto st = MakeDirs(parent.string(), 0755); !st.ok()) return st;
    if (auto st = WriteFileAtomic(opts.config_path, config::DefaultConfigYaml(), 0640, true);
        !st.ok())
      return st;
    wrote_config = true;
  }
  auto cfg = config::LoadConfig(opts.config_path);
  if (!cfg.ok()) return cfg.status();
  if (PathExists(cfg->DbPath()) || PathExists(cfg->SecretsKeyPath())) {
    return absl::AlreadyExistsError(
        fmt::format("{} is already initialised; refusing to run init twice", cfg->data_dir));
  }
  for (const auto& dir : {cfg->data_dir, cfg->KeysDir(), cfg->TlsDir(), cfg->RecordingsDir()}) {
    if (auto st = MakeDirs(dir, 0700); !st.ok()) return st;
  }
  if (auto st = auth::SecretBox::CreateKeyFile(cfg->SecretsKeyPath()); !st.ok()) return st;
  for (const std::string& path :
       {cfg->SshUserCaKeyPath(), cfg->SshLoginCaKeyPath(), cfg->SshHostKeyPath(),
        cfg->RecordingKeyPath()}) {
    if (auto st = ca::Ed25519Key::Generate().SavePrivateFile(path); !st.ok()) return st;
  }
  tls::TlsPaths tls{cfg->TlsCaCertPath(), cfg->TlsCaKeyPath(), cfg->TlsServerCertPath(),
                    cfg->TlsServerKeyPath()};
  if (auto st = tls::CreateTlsMaterial(tls, cfg->tls_server_names); !st.ok()) return st;
  {
    // Creates the store and applies migrations.
    auto db = store::Database::Open(cfg->DbPath(), clock);
    if (!db.ok()) return db.status();
  }
  auto broker = core::Broker::Open(*cfg, clock);
  if (!broker.ok()) return broker.status();
  audit::AuditEvent ev;
  ev.type = "broker.init";
  ev.actor = "system";
  ev.subject = cfg->data_dir;
  ev.outcome = "success";
  ev.details = {{"admin", opts.admin}, {"ssh_user_ca", (*broker)->authority().SshUserCaLine()}};
  if (auto st = (*broker)->audit().Append(ev); !st.ok()) return st.status();

  auto admin = core::CreateUser(**broker, opts.admin, admin_password, {"admin"},
                                core::Actor{"system", "init"});
  if (!admin.ok()) return admin.status();

  if (wrote_config) out << "Wrote default config to " << opts.config_path << "\n";
  out << "Initialised data directory " << cfg->data_dir << "\n\n";
  out << "Admin " << opts.admin << ": add this TOTP secret to an authenticator app:\n"
      << "  " << admin->otpauth_uri << "\n\n";
  auto qr = auth::RenderQrForTerminal(admin->otpauth_uri);
  if (qr.ok()) out << *qr << "\n";
  out << "SSH user CA (put this line in each SSH target's TrustedUserCAKeys file):\n"
      << "  " << (*broker)->authority().SshUserCaLine() << "\n\n";
  out << "API TLS CA certificate: " << cfg->TlsCaCertPath() << "\n\n";
  out << "Next:\n"
      << "  portcullisd --config " << cfg->config_path << "\n"
      << "  portcullis login --broker " << cfg->grpc.ToString() << " --ca "
      << cfg->TlsCaCertPath() << " --user " << opts.admin << "\n";
  return absl::OkStatus();
}

}  // namespace portcullis::daemon
