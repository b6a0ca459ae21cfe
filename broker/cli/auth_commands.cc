#include <openssl/crypto.h>

#include <iostream>

#include "broker/cli/commands.h"
#include "broker/cli/ssh_files.h"
#include "broker/common/files.h"
#include "broker/common/terminal.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/auth.grpc.pb.h"
#include "portcullis/v1/ca.grpc.pb.h"

namespace portcullis::cli {

namespace {

// Checks and writes the SSH files of a login that asked for a certificate.
int WriteSshLogin(const v1::LoginResponse& resp, const SshFilePaths& paths,
                  const std::string& public_key, const std::string& broker_host) {
  if (resp.ssh_certificate().empty()) {
    return CliContext::Fail(absl::InternalError("the broker returned no SSH login certificate"));
  }
  auto info = CheckLoginCertificate(resp.ssh_certificate(), public_key, resp.user());
  if (!info.ok()) return CliContext::Fail(info.status());
  SshConfigInput config;
  config.host = broker_host;
  config.port = resp.ssh_port();
  config.user = resp.user();
  config.targets.assign(resp.ssh_targets().begin(), resp.ssh_targets().end());
  if (auto st = WriteSshFiles(paths, resp.ssh_certificate(), resp.ssh_host_key(), config);
      !st.ok())
    return CliContext::Fail(st);
  std::cout << "SSH certificate valid until "
            << FormatUtc(FromUnix(static_cast<int64_t>(info->valid_before))) << ": "
            << paths.certificate << "\n";
  if (config.port == 0) {
    std::cout << "The broker's SSH listener is disabled: no ssh_config written.\n";
    return kExitOk;
  }
  std::cout << "SSH config: " << paths.ssh_config << " (known hosts: " << paths.known_hosts
            << ")\n";
  if (config.targets.empty()) {
    std::cout << "No ssh target is open to you yet; the menu: ssh -F " << paths.ssh_config
              << " portcullis\n";
  } else {
    std::cout << "SSH targets:";
    for (const auto& t : config.targets) std::cout << " " << t;
    std::cout << "\nTry: ssh -F " << paths.ssh_config << " " << config.targets.front() << "\n";
  }
  return kExitOk;
}

// Saves the broker's recording public key for `recordings verify FILE`. A
// failure only warns: the login itself worked.
void SaveRecordingKey(CliContext& ctx, const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::CaService::NewStub(channel);
  v1::ExportCaRequest req;
  req.set_kind(v1::CA_KIND_RECORDING);
  v1::ExportCaResponse resp;
  auto call = ctx.CallContext();
  grpc::Status st = stub->ExportCa(call.get(), req, &resp);
  if (!st.ok() || resp.data().empty()) {
    std::cerr << "portcullis: warning: could not fetch the recording key"
              << (st.ok() ? std::string() : ": " + st.error_message()) << "\n";
    return;
  }
  if (auto s = WriteFileAtomic(CliContext::RecordingKeyPath(), resp.data(), 0600); !s.ok()) {
    std::cerr << "portcullis: warning: " << s.message() << "\n";
  }
}

}  // namespace

void RegisterAuthCommands(CLI::App& app, CliContext& ctx, int* rc) {
  struct LoginArgs {
    std::string broker = "127.0.0.1:7443";
    std::string ca;
    std::string user;
    std::string totp;
    bool password_stdin = false;
    bool no_ssh = false;
  };
  auto args = std::make_shared<LoginArgs>();
  auto* login = app.add_subcommand("login", "Log in with password + TOTP; saves a token");
  login->add_option("--broker", args->broker, "Broker API address HOST:PORT")
      ->capture_default_str();
  login->add_option("--ca", args->ca,
                    "Broker TLS CA certificate (PEM); default: the one saved by the last login");
  login->add_option("--user", args->user, "Portcullis user name")->required();
  login->add_option("--totp", args->totp, "Verification code (prompted if absent)");
  login->add_flag("--password-stdin", args->password_stdin, "Read the password from stdin");
  login->add_flag("--no-ssh", args->no_ssh,
                  "Do not ask for an SSH login certificate (no key, ssh_config or known_hosts)");
  login->callback([&ctx, rc, args] {
    std::string ca_path = args->ca.empty() ? ctx.CaPath() : args->ca;
    auto ca = ReadFileBounded(ca_path, 64 * 1024);
    if (!ca.ok()) {
      *rc = CliContext::Fail(absl::FailedPreconditionError(
          "cannot read the broker CA certificate " + ca_path + ": pass --ca FILE"));
      return;
    }
    // The SSH key is made (once) before any prompt, so a problem with the
    // home directory shows before the user types a password.
    const SshFilePaths ssh_paths = SshFilesIn(CliContext::HomeDir());
    std::string ssh_public_key, broker_host;
    if (!args->no_ssh) {
      auto host = BrokerHost(args->broker);
      if (!host.ok()) {
        *rc = CliContext::Fail(host.status());
        return;
      }
      broker_host = *host;
      auto pub = EnsureLoginKey(ssh_paths);
      if (!pub.ok()) {
        *rc = CliContext::Fail(pub.status());
        return;
      }
      ssh_public_key = *pub;
    }
    auto password = args->password_stdin ? ReadSecretFromStdin()
                                          : ReadSecretFromTerminal("Password: ");
    if (!password.ok()) {
      *rc = CliContext::Fail(password.status());
      return;
    }
    std::string code = args->totp;
    if (code.empty()) {
      auto c = ReadLineFromTerminal("Verification code: ");
      if (!c.ok()) {
        *rc = CliContext::Fail(c.status());
        return;
      }
      code = *c;
    }
    auto channel = CliContext::Channel(args->broker, *ca);
    auto stub = v1::AuthService::NewStub(channel);
    v1::LoginRequest req;
    req.set_user(args->user);
    req.set_password(std::string(password->Reveal()));
    req.set_totp_code(code);
    req.set_ssh_public_key(ssh_public_key);
    v1::LoginResponse resp;
    auto call = ctx.CallContext();
    grpc::Status st = stub->Login(call.get(), req, &resp);
    OPENSSL_cleanse(req.mutable_password()->data(), req.mutable_password()->size());
    if (!st.ok()) {
      *rc = CliContext::Fail(st);
      return;
    }
    SavedLogin saved{args->broker, resp.user(), resp.token(), resp.expires_at().seconds()};
    if (auto s = ctx.SaveLogin(saved, *ca); !s.ok()) {
      *rc = CliContext::Fail(s);
      return;
    }
    SaveRecordingKey(ctx, channel);
    std::cout << "Logged in as " << resp.user() << (resp.admin() ? " (admin)" : "")
              << " until " << FormatUtc(FromUnix(resp.expires_at().seconds())) << "\n";
    if (!ssh_public_key.empty()) {
      *rc = WriteSshLogin(resp, ssh_paths, ssh_public_key, broker_host);
      return;
    }
    *rc = kExitOk;
  });

  auto* logout = app.add_subcommand("logout", "Revoke the saved token and forget it");
  logout->callback([&ctx, rc] {
    auto stub = ctx.Stub<v1::AuthService>(rc);
    if (!stub) return;
    v1::LogoutResponse resp;
    auto call = ctx.CallContext();
    grpc::Status st = stub->Logout(call.get(), v1::LogoutRequest(), &resp);
    ctx.ForgetLogin();
    RemoveLoginCertificate(SshFilesIn(CliContext::HomeDir()));
    if (!st.ok() && st.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
      *rc = CliContext::Fail(st);
      return;
    }
    std::cout << "Logged out\n";
    *rc = kExitOk;
  });

  auto* whoami = app.add_subcommand("whoami", "Show who the saved login belongs to");
  whoami->callback([&ctx, rc] {
    auto stub = ctx.Stub<v1::AuthService>(rc);
    v1::WhoAmIResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->WhoAmI(c, v1::WhoAmIRequest(), &resp); }, rc))
      return;
    std::cout << "user:    " << resp.user() << "\nroles:   ";
    for (int i = 0; i < resp.roles_size(); ++i) std::cout << (i ? ", " : "") << resp.roles(i);
    std::cout << "\nadmin:   " << (resp.admin() ? "yes" : "no")
              << "\nexpires: " << FormatUtc(FromUnix(resp.token_expires_at().seconds())) << "\n";
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
