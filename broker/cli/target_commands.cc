#include <cstdio>
#include <iostream>

#include "broker/cli/commands.h"
#include "portcullis/v1/targets.grpc.pb.h"

namespace portcullis::cli {
namespace {

std::string LabelsText(const v1::Target& t) {
  std::string out;
  for (const auto& l : t.labels()) out += (out.empty() ? "" : ",") + l.key() + "=" + l.value();
  return out;
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
    std::string name, address, protocol, host_key, crypto = "modern";
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
                  "Pinned SSH host key 'TYPE BASE64' (default: trust on first use)");
  add->add_option("--crypto", a->crypto, "modern|legacy (legacy: old RTUs, broker->target only)")
      ->check(CLI::IsMember({"modern", "legacy"}));
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
    req.set_crypto(a->crypto == "legacy" ? v1::CRYPTO_PROFILE_LEGACY : v1::CRYPTO_PROFILE_MODERN);
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::AddTargetResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->AddTarget(c, req, &resp); }, rc)) return;
    std::cout << "target " << resp.target().name() << " added (" << resp.target().address()
              << ", " << ProtocolText(resp.target().protocol()) << ")\n";
    *rc = kExitOk;
  });

  auto weak = std::make_shared<bool>(false);
  auto* ls = targets->add_subcommand("ls", "List the targets you may reach (admins: all)");
  ls->add_flag("--weak-crypto", *weak, "Only targets that need legacy SSH algorithms");
  ls->callback([&ctx, rc, weak] {
    auto stub = ctx.Stub<v1::TargetService>(rc);
    v1::ListTargetsRequest req;
    req.set_weak_crypto(*weak);
    v1::ListTargetsResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListTargets(c, req, &resp); }, rc)) return;
    std::printf("%-20s %-8s %-24s %-8s %s\n", "NAME", "PROTO", "ADDRESS", "CRYPTO", "LABELS");
    for (const auto& t : resp.targets()) {
      std::printf("%-20s %-8s %-24s %-8s %s\n", t.name().c_str(), ProtocolText(t.protocol()),
                  t.address().c_str(),
                  t.crypto() == v1::CRYPTO_PROFILE_LEGACY ? "legacy" : "modern",
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
              << "\nprotocol: " << ProtocolText(t.protocol()) << "\nlabels:   " << LabelsText(t)
              << "\ncrypto:   " << (t.crypto() == v1::CRYPTO_PROFILE_LEGACY ? "legacy" : "modern")
              << "\nhost key: " << (t.host_key().empty() ? "(trust on first use)" : t.host_key())
              << "\n";
    *rc = kExitOk;
  });

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
