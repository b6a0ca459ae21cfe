#include <openssl/crypto.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "broker/cli/commands.h"
#include "broker/common/files.h"
#include "broker/common/printable.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/keys.grpc.pb.h"

namespace portcullis::cli {
namespace {

constexpr size_t kMaxKeyFileBytes = 64 * 1024;

// The key line from FILE, or from stdin for "-".
absl::StatusOr<std::string> ReadKeyLine(const std::string& file) {
  if (file != "-") {
    auto text = ReadFileBounded(file, kMaxKeyFileBytes);
    if (!text.ok()) return text.status();
    return *text;
  }
  std::string text;
  char buf[4096];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    text.append(buf, static_cast<size_t>(std::cin.gcount()));
    if (text.size() > kMaxKeyFileBytes) {
      return absl::InvalidArgumentError("standard input: more than one public key line");
    }
  }
  return text;
}

std::string Shown(const std::string& s) { return Printable(s, std::string::npos); }

}  // namespace

void RegisterKeyCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* keys = app.add_subcommand(
      "keys", "SSH public keys for logging in to the broker's SSH listener (key + TOTP)");
  keys->require_subcommand(1);

  struct Args {
    std::string user, file, fingerprint;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* add = keys->add_subcommand("add", "Register a public key (an OpenSSH .pub file, - = stdin)");
  add->add_option("file", a->file, "Public key file (e.g. ~/.ssh/id_ed25519.pub) or -")
      ->required();
  add->add_option("--user", a->user, "Whose key (default: you; others need admin)");
  add->callback([&ctx, rc, a] {
    auto line = ReadKeyLine(a->file);
    if (!line.ok()) {
      *rc = CliContext::Fail(line.status());
      return;
    }
    // Never send a private key anywhere, even by mistake.
    if (line->find("-----BEGIN") != std::string::npos) {
      OPENSSL_cleanse(line->data(), line->size());
      *rc = CliContext::Fail(absl::InvalidArgumentError(
          a->file + " holds a private key: give the public key (the .pub file)"));
      return;
    }
    v1::AddKeyRequest req;
    req.set_user(a->user);
    req.set_public_key(*line);
    auto stub = ctx.Stub<v1::KeyService>(rc);
    v1::AddKeyResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->AddKey(c, req, &resp); }, rc)) return;
    const auto& k = resp.key();
    std::cout << "added key " << k.fingerprint() << " (" << k.type()
              << (k.comment().empty() ? "" : ", " + Shown(k.comment())) << ") for " << k.user()
              << "\n";
    *rc = kExitOk;
  });

  auto* ls = keys->add_subcommand("ls", "List registered keys");
  ls->add_option("--user", a->user, "Whose keys (default: you; others need admin)");
  ls->add_flag("--json", a->json, "JSON output (one array)");
  ls->callback([&ctx, rc, a] {
    v1::ListKeysRequest req;
    req.set_user(a->user);
    auto stub = ctx.Stub<v1::KeyService>(rc);
    v1::ListKeysResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListKeys(c, req, &resp); }, rc)) return;
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& k : resp.keys()) {
        out.push_back({{"user", k.user()},
                       {"fingerprint", k.fingerprint()},
                       {"type", k.type()},
                       {"comment", k.comment()},
                       {"added", FormatUtc(FromUnix(k.created_at().seconds()))},
                       {"public_key", k.public_key()}});
      }
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::printf("%-51s %-20s %-20s %s\n", "FINGERPRINT", "TYPE", "ADDED", "COMMENT");
      for (const auto& k : resp.keys()) {
        std::printf("%-51s %-20s %-20s %s\n", k.fingerprint().c_str(), k.type().c_str(),
                    FormatUtc(FromUnix(k.created_at().seconds())).c_str(),
                    Shown(k.comment()).c_str());
      }
    }
    *rc = kExitOk;
  });

  auto* rm = keys->add_subcommand("rm", "Remove a registered key");
  rm->add_option("fingerprint", a->fingerprint, "SHA256:... as `keys ls` shows it")->required();
  rm->add_option("--user", a->user, "Whose key (default: you; others need admin)");
  rm->callback([&ctx, rc, a] {
    v1::RemoveKeyRequest req;
    req.set_user(a->user);
    req.set_fingerprint(a->fingerprint);
    auto stub = ctx.Stub<v1::KeyService>(rc);
    v1::RemoveKeyResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->RemoveKey(c, req, &resp); }, rc)) return;
    std::cout << "removed key " << a->fingerprint << "\n";
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
