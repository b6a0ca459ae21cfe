#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "broker/cli/commands.h"
#include "broker/common/secret.h"
#include "broker/common/terminal.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/targets.grpc.pb.h"

namespace portcullis::cli {
namespace {

std::string LabelsText(const v1::Target& t) {
  std::string out;
  for (const auto& l : t.labels()) out += (out.empty() ? "" : ",") + l.key() + "=" + l.value();
  return out;
}

const char* AuthText(v1::TargetAuth a) {
  switch (a) {
    case v1::TARGET_AUTH_PASSWORD: return "password";
    case v1::TARGET_AUTH_KEY: return "key";
    case v1::TARGET_AUTH_NONE: return "none";
    default: return "certificate";
  }
}

// Reads a key file straight into a SecretBytes (no unwiped copies):
// refuses a file that cannot be read, is not a regular file, is empty or
// is larger than SecretBytes::kMaxSize.
absl::StatusOr<SecretBytes> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        fmt::format("cannot read the key file {}: {}", path, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(fmt::format("the key file {} is not a regular file", path));
  }
  SecretBytes buf;
  buf.Resize(SecretBytes::kMaxSize + 1);
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError(
          fmt::format("cannot read the key file {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got == 0) return absl::InvalidArgumentError(fmt::format("the key file {} is empty", path));
  if (got > SecretBytes::kMaxSize) {
    return absl::InvalidArgumentError(fmt::format("the key file {} is larger than {} bytes", path,
                                                  SecretBytes::kMaxSize));
  }
  buf.Resize(got);
  return buf;
}

void RegisterSecretCommands(CLI::App* targets, CliContext& ctx, int* rc) {
  struct SecretArgs {
    std::string name, login, domain, key_file;
    bool password_stdin = false;
  };
  auto a = std::make_shared<SecretArgs>();
  auto* set = targets->add_subcommand(
      "set-secret", "Vault the password or private key the broker logs in with (admin)");
  set->add_option("name", a->name, "Target name")->required();
  set->add_option("--login", a->login, "Account on the target (ssh: required; vnc: none)");
  set->add_option("--domain", a->domain, "Windows domain (RDP)");
  auto* pw = set->add_flag("--password-stdin", a->password_stdin,
                           "Read the password from stdin (one line)");
  auto* kf = set->add_option("--key-file", a->key_file,
                             "Private key file (OpenSSH or PEM, no passphrase)");
  pw->excludes(kf);
  set->callback([&ctx, rc, a] {
    if (!a->password_stdin && a->key_file.empty()) {
      *rc = CliContext::Fail(absl::InvalidArgumentError(
          "give --password-stdin or --key-file FILE (secrets are never taken from the command line)"));
      return;
    }
    v1::SetTargetSecretRequest req;
    req.set_name(a->name);
    req.set_login(a->login);
    req.set_domain(a->domain);
    absl::StatusOr<SecretBytes> secret;
    if (a->password_stdin) {
      req.set_kind(v1::SECRET_KIND_PASSWORD);
      secret = ReadSecretFromStdin();
      if (secret.ok() && secret->empty())
        secret = absl::InvalidArgumentError("the password on stdin is empty");
    } else {
      req.set_kind(v1::SECRET_KIND_KEY);
      secret = ReadKeyFile(a->key_file);
    }
    if (!secret.ok()) {
      *rc = CliContext::Fail(secret.status());
      return;
    }
    req.set_secret(std::string(secret->Reveal()));
    secret->Clear();
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::SetTargetSecretResponse resp;
    const bool ok =
        stub && ctx.Rpc([&](auto* c) { return stub->SetTargetSecret(c, req, &resp); }, rc);
    // The request's copy is wiped whatever happened.
    std::string* wire = req.mutable_secret();
    if (auto wiped = SecretBytes::Take(*wire); !wiped.ok()) wire->clear();
    if (!ok) return;
    std::cout << "secret for " << (a->login.empty() ? "(no login)" : a->login) << " on "
              << a->name << " set (" << (a->password_stdin ? "password" : "key") << ")\n";
    if (!resp.warning().empty()) std::cerr << "portcullis: warning: " << resp.warning() << "\n";
    *rc = kExitOk;
  });

  auto r = std::make_shared<SecretArgs>();
  auto* rm = targets->add_subcommand("rm-secret", "Remove a vaulted secret (admin)");
  rm->add_option("name", r->name, "Target name")->required();
  rm->add_option("--login", r->login, "Account on the target");
  rm->callback([&ctx, rc, r] {
    v1::RemoveTargetSecretRequest req;
    req.set_name(r->name);
    req.set_login(r->login);
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::RemoveTargetSecretResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->RemoveTargetSecret(c, req, &resp); }, rc))
      return;
    std::cout << "secret for " << (r->login.empty() ? "(no login)" : r->login) << " on "
              << r->name << " removed\n";
    *rc = kExitOk;
  });
}

}  // namespace

v1::Protocol ProtocolFromText(const std::string& text) {
  if (text == "ssh") return v1::PROTOCOL_SSH;
  if (text == "rdp") return v1::PROTOCOL_RDP;
  if (text == "vnc") return v1::PROTOCOL_VNC;
  if (text == "tcp") return v1::PROTOCOL_TCP;
  return v1::PROTOCOL_UNSPECIFIED;
}

const char* ProtocolText(v1::Protocol p) {
  switch (p) {
    case v1::PROTOCOL_SSH: return "ssh";
    case v1::PROTOCOL_RDP: return "rdp";
    case v1::PROTOCOL_VNC: return "vnc";
    case v1::PROTOCOL_TCP: return "tcp";
    default: return "?";
  }
}

void RegisterTargetCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* targets = app.add_subcommand("targets", "Targets reached through the broker");
  targets->require_subcommand(1);

  struct AddArgs {
    std::string name, address, protocol, host_key, crypto, auth;
    std::vector<std::string> labels;
  };
  auto a = std::make_shared<AddArgs>();
  auto* add = targets->add_subcommand("add", "Register a target (admin)");
  add->add_option("name", a->name, "Target name")->required();
  add->add_option("--address", a->address, "HOST:PORT")->required();
  add->add_option("--protocol", a->protocol, "ssh|rdp|vnc|tcp")
      ->required()
      ->check(CLI::IsMember({"ssh", "rdp", "vnc", "tcp"}));
  add->add_option("--label", a->labels, "Label k=v (repeatable)");
  add->add_option("--host-key", a->host_key,
                  "Pinned SSH host key 'TYPE BASE64', or for a vnc target with --crypto modern "
                  "the SHA-256 fingerprint of its TLS certificate (default: trust on first use)");
  add->add_option("--crypto", a->crypto,
                  "modern|legacy, the broker->target leg only. ssh: modern (default) or legacy "
                  "algorithms for old RTUs; vnc: modern = VeNCrypt (TLS, certificate pinned), "
                  "legacy (default) = the clear (VncAuth or None)")
      ->check(CLI::IsMember({"modern", "legacy"}));
  add->add_option("--auth", a->auth,
                  "certificate|password|key|none: how the broker logs in (default certificate; "
                  "vnc: password (VncAuth) or none; password and key use a secret from "
                  "`targets set-secret`)")
      ->check(CLI::IsMember({"certificate", "password", "key", "none"}));
  add->callback([&ctx, rc, a] {
    v1::AddTargetRequest req;
    req.set_name(a->name);
    req.set_address(a->address);
    req.set_protocol(ProtocolFromText(a->protocol));
    for (const auto& kv : a->labels) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        *rc = CliContext::Fail(absl::InvalidArgumentError("--label wants k=v, got '" + kv + "'"));
        return;
      }
      auto* l = req.add_labels();
      l->set_key(kv.substr(0, eq));
      l->set_value(kv.substr(eq + 1));
    }
    req.set_host_key(a->host_key);
    req.set_crypto(a->crypto == "legacy"   ? v1::CRYPTO_PROFILE_LEGACY
                   : a->crypto == "modern" ? v1::CRYPTO_PROFILE_MODERN
                                           : v1::CRYPTO_PROFILE_UNSPECIFIED);
    req.set_auth(a->auth == "password"      ? v1::TARGET_AUTH_PASSWORD
                 : a->auth == "key"         ? v1::TARGET_AUTH_KEY
                 : a->auth == "none"        ? v1::TARGET_AUTH_NONE
                 : a->auth == "certificate" ? v1::TARGET_AUTH_CERTIFICATE
                                            : v1::TARGET_AUTH_UNSPECIFIED);
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::AddTargetResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->AddTarget(c, req, &resp); }, rc)) return;
    std::cout << "target " << resp.target().name() << " added (" << resp.target().address()
              << ", " << ProtocolText(resp.target().protocol()) << ", auth "
              << AuthText(resp.target().auth()) << ")\n";
    if (!resp.target().weak_crypto().empty()) {
      std::cerr << "portcullis: note: the broker->target leg of " << resp.target().name()
                << " uses weak crypto: " << resp.target().weak_crypto() << "\n";
    }
    *rc = kExitOk;
  });

  auto weak = std::make_shared<bool>(false);
  auto* ls = targets->add_subcommand("ls", "List the targets you may reach (admins: all)");
  ls->add_flag("--weak-crypto", *weak,
               "Only targets whose broker->target leg uses weak or no crypto (legacy SSH, "
               "VNC with VncAuth or None), with the reason");
  ls->callback([&ctx, rc, weak] {
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::ListTargetsRequest req;
    req.set_weak_crypto(*weak);
    v1::ListTargetsResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListTargets(c, req, &resp); }, rc)) return;
    if (*weak) {
      std::printf("%-20s %-8s %-24s %s\n", "NAME", "PROTO", "ADDRESS", "WHY");
      for (const auto& t : resp.targets()) {
        std::printf("%-20s %-8s %-24s %s\n", t.name().c_str(), ProtocolText(t.protocol()),
                    t.address().c_str(), t.weak_crypto().c_str());
      }
      *rc = kExitOk;
      return;
    }
    std::printf("%-20s %-8s %-24s %-8s %s\n", "NAME", "PROTO", "ADDRESS", "CRYPTO", "LABELS");
    for (const auto& t : resp.targets()) {
      std::printf("%-20s %-8s %-24s %-8s %s\n", t.name().c_str(), ProtocolText(t.protocol()),
                  t.address().c_str(),
                  t.weak_crypto().empty()                   ? "modern"
                  : t.protocol() == v1::PROTOCOL_VNC        ? "weak"
                  : t.crypto() == v1::CRYPTO_PROFILE_LEGACY ? "legacy"
                                                            : "weak",
                  LabelsText(t).c_str());
    }
    *rc = kExitOk;
  });

  auto name = std::make_shared<std::string>();
  auto* show = targets->add_subcommand("show", "Show one target");
  show->add_option("name", *name, "Target name")->required();
  show->callback([&ctx, rc, name] {
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::GetTargetRequest req;
    req.set_name(*name);
    v1::GetTargetResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->GetTarget(c, req, &resp); }, rc)) return;
    const auto& t = resp.target();
    std::cout << "name:     " << t.name() << "\naddress:  " << t.address()
              << "\nprotocol: " << ProtocolText(t.protocol()) << "\nauth:     " << AuthText(t.auth())
              << "\nlabels:   " << LabelsText(t)
              << "\ncrypto:   " << (t.crypto() == v1::CRYPTO_PROFILE_LEGACY ? "legacy" : "modern")
              << (t.protocol() == v1::PROTOCOL_VNC
                      ? (t.crypto() == v1::CRYPTO_PROFILE_LEGACY ? " (in the clear)"
                                                                 : " (VeNCrypt, TLS)")
                      : "")
              << (t.protocol() == v1::PROTOCOL_VNC ? "\ncert pin: " : "\nhost key: ")
              << (t.host_key().empty() ? "(trust on first use)" : t.host_key())
              << "\n";
    for (const auto& sec : t.secrets()) {
      std::cout << "secret for " << (sec.login().empty() ? "(no login)" : sec.login())
                << ": set "
                << FormatUtc(TimePoint(std::chrono::seconds(sec.set_at().seconds()))) << " by "
                << sec.set_by() << " (" << (sec.kind() == v1::SECRET_KIND_KEY ? "key" : "password");
      if (!sec.domain().empty()) std::cout << ", domain " << sec.domain();
      std::cout << ")\n";
    }
    if (!t.weak_crypto().empty()) std::cout << "weak:     " << t.weak_crypto() << "\n";
    if (t.auth() != v1::TARGET_AUTH_CERTIFICATE && t.auth() != v1::TARGET_AUTH_UNSPECIFIED &&
        t.auth() != v1::TARGET_AUTH_NONE && t.secrets().empty()) {
      std::cout << "secrets:  (none vaulted: `portcullis targets set-secret " << t.name()
                << (t.protocol() == v1::PROTOCOL_VNC ? " --password-stdin`)\n" : " --login L ...`)\n");
    }
    *rc = kExitOk;
  });

  RegisterSecretCommands(targets, ctx, rc);

  auto* rm = targets->add_subcommand("rm", "Remove a target (admin)");
  rm->add_option("name", *name, "Target name")->required();
  rm->callback([&ctx, rc, name] {
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::RemoveTargetRequest req;
    req.set_name(*name);
    v1::RemoveTargetResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->RemoveTarget(c, req, &resp); }, rc)) return;
    std::cout << "target " << *name << " removed\n";
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
