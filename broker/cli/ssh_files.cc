#include "broker/cli/ssh_files.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/ssh_certificate.h"
#include "auth/ca/ssh_public_key.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"
#include "broker/common/files.h"

namespace portcullis::cli {
namespace {

constexpr char kKeyComment[] = "portcullis";

// A quoted ssh_config argument; '%' doubled where ssh expands tokens.
std::string Quoted(std::string_view path, bool expands_tokens) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '%' && expands_tokens) out += '%';
    out += c;
  }
  return out + "\"";
}

bool SafeInConfig(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || c == 0x7f;
  });
}

}  // namespace

SshFilePaths SshFilesIn(const std::string& home) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(home, ec);
  if (ec) dir = home;
  SshFilePaths p;
  p.dir = dir.lexically_normal().string();
  while (p.dir.size() > 1 && p.dir.back() == '/') p.dir.pop_back();
  p.key = p.dir + "/id_ed25519";
  p.public_key = p.key + ".pub";
  p.certificate = p.key + "-cert.pub";
  p.known_hosts = p.dir + "/known_hosts";
  p.ssh_config = p.dir + "/ssh_config";
  return p;
}

absl::StatusOr<std::string> EnsureLoginKey(const SshFilePaths& paths) {
  if (!SafeInConfig(paths.dir)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: the CLI home directory must not contain quotes, backslashes or control characters",
        paths.dir));
  }
  if (auto st = MakeDirs(paths.dir, 0700); !st.ok()) return st;
  if (PathExists(paths.key)) {
    auto line = ReadFileBounded(paths.public_key, ca::kMaxPublicKeyLineBytes);
    if (line.ok()) {
      auto key = ca::ParsePublicKeyLine(*line);
      if (key.ok()) {
        return fmt::format("{} {} {}", key->type, Base64Encode(key->blob), kKeyComment);
      }
    }
  }
  ca::Ed25519Key key = ca::Ed25519Key::Generate();
  SecretBytes priv = key.OpenSshPrivateKey(kKeyComment);
  if (auto st = WriteFileAtomic(paths.key, priv.Reveal(), 0600); !st.ok()) return st;
  std::string line = key.AuthorizedKeyLine(kKeyComment);
  if (auto st = WriteFileAtomic(paths.public_key, line + "\n", 0644); !st.ok()) return st;
  return line;
}

absl::StatusOr<std::string> BrokerHost(std::string_view broker) {
  std::string_view host = broker;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("--broker {}: missing ']'", broker));
    }
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  bool ok = !host.empty() && host.size() <= 253;
  for (char c : host) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
                c == '_');
  }
  if (!ok) return absl::InvalidArgumentError(fmt::format("--broker {}: bad host name", broker));
  return std::string(host);
}

std::string KnownHostsText(const std::string& host, uint32_t port,
                           const std::string& host_key_line) {
  std::string out =
      "# The Portcullis broker's SSH host key, written by `portcullis login`.\n";
  out += fmt::format("[{}]:{} {}\n", host, port, host_key_line);
  if (port == 22) out += fmt::format("{} {}\n", host, host_key_line);
  return out;
}

std::string SshConfigText(const SshConfigInput& in, const SshFilePaths& paths) {
  auto common = [&](std::string& out, const std::string& user) {
    out += fmt::format("  HostName {}\n", in.host);
    out += fmt::format("  Port {}\n", in.port);
    out += fmt::format("  User {}\n", user);
    out += fmt::format("  IdentityFile {}\n", Quoted(paths.key, true));
    out += fmt::format("  CertificateFile {}\n", Quoted(paths.certificate, true));
    out += "  IdentitiesOnly yes\n";
    out += fmt::format("  UserKnownHostsFile {}\n", Quoted(paths.known_hosts, true));
    out += "  StrictHostKeyChecking yes\n";
  };
  std::string out = fmt::format(
      "# Written by `portcullis login` for {}; replaced at every login.\n"
      "# Use: ssh -F {} TARGET   (scp -F / sftp -F alike)\n",
      in.user, Quoted(paths.ssh_config, false));
  for (const auto& t : in.targets) {
    out += fmt::format("\nHost {}\n", t);
    common(out, in.user + ":" + t);
  }
  out += "\n# The menu of the targets you may reach.\nHost portcullis\n";
  common(out, in.user);
  return out;
}

absl::StatusOr<LoginCertificateInfo> CheckLoginCertificate(const std::string& cert_line,
                                                           const std::string& public_key_line,
                                                           const std::string& user) {
  auto bad = [](std::string_view why) {
    return absl::InternalError(fmt::format("the broker returned a bad login certificate: {}", why));
  };
  auto fields = ca::SplitPublicKeyLine(cert_line);
  if (!fields.ok()) return bad(std::string(fields.status().message()));
  if (fields->type != "ssh-ed25519-cert-v01@openssh.com") return bad("not an ed25519 certificate");
  auto blob = Base64Decode(fields->data);
  if (!blob.ok()) return bad("bad base64");
  auto cert = ca::ParseCertificate(*blob);
  if (!cert.ok()) return bad(std::string(cert.status().message()));
  auto key = ca::ParsePublicKeyLine(public_key_line);
  if (!key.ok()) return key.status();
  const auto& f = cert->fields;
  if (f.subject_public_blob != key->blob) return bad("it certifies another key");
  if (f.type != ca::kCertTypeUser) return bad("not a user certificate");
  if (std::find(f.principals.begin(), f.principals.end(), user) == f.principals.end()) {
    return bad(fmt::format("{} is not among its principals", user));
  }
  return LoginCertificateInfo{f.valid_before, f.principals};
}

absl::Status WriteSshFiles(const SshFilePaths& paths, const std::string& cert_line,
                           const std::string& host_key_line, const SshConfigInput& config) {
  if (auto st = WriteFileAtomic(paths.certificate, cert_line + "\n", 0644); !st.ok()) return st;
  if (config.port == 0) return absl::OkStatus();
  if (auto st = WriteFileAtomic(paths.known_hosts,
                                KnownHostsText(config.host, config.port, host_key_line), 0644);
      !st.ok())
    return st;
  return WriteFileAtomic(paths.ssh_config, SshConfigText(config, paths), 0644);
}

void RemoveLoginCertificate(const SshFilePaths& paths) { ::unlink(paths.certificate.c_str()); }

}  // namespace portcullis::cli
