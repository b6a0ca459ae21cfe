#include <iostream>

#include "broker/cli/commands.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/policy.grpc.pb.h"

namespace portcullis::cli {

void RegisterPolicyCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* policy = app.add_subcommand("policy", "Role policy tools (admin)");
  policy->require_subcommand(1);
  struct Args {
    std::string user, target, login, protocol, at, tunnel, transfer;
  };
  auto a = std::make_shared<Args>();
  auto* check = policy->add_subcommand(
      "check", "Would this access be allowed? Prints ALLOW or DENY and the rule (exit 0 / 3)");
  check->add_option("--user", a->user, "Portcullis user")->required();
  check->add_option("--target", a->target, "Target name")->required();
  check->add_option("--login", a->login, "Account on the target (default: the role's first)");
  check->add_option("--protocol", a->protocol, "ssh|rdp|vnc|tcp (default: the target's)")
      ->check(CLI::IsMember({"ssh", "rdp", "vnc", "tcp"}));
  check->add_option("--at", a->at, "Time, RFC 3339 (default: now), e.g. 2026-11-23T09:00:00Z");
  check->add_option("--tunnel", a->tunnel, "HOST:PORT of a requested tunnel");
  check->add_option("--transfer", a->transfer, "download|upload")
      ->check(CLI::IsMember({"download", "upload"}));
  check->callback([&ctx, rc, a] {
    v1::CheckRequest req;
    req.set_user(a->user);
    req.set_target(a->target);
    req.set_login(a->login);
    req.set_protocol(ProtocolFromText(a->protocol));  // "" = the target's
    if (!a->at.empty()) {
      auto t = ParseUtc(a->at);
      if (!t.ok()) {
        *rc = CliContext::Fail(t.status());
        return;
      }
      req.mutable_at()->set_seconds(ToUnix(*t));
    }
    req.set_tunnel(a->tunnel);
    if (a->transfer == "download") req.set_transfer(v1::TRANSFER_DIRECTION_DOWNLOAD);
    if (a->transfer == "upload") req.set_transfer(v1::TRANSFER_DIRECTION_UPLOAD);
    auto stub = ctx.Stub<v1::PolicyService>(rc);
    v1::CheckResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->Check(c, req, &resp); }, rc)) return;
    std::cout << (resp.allowed() ? "ALLOW" : "DENY") << "  " << resp.reason() << "\n";
    if (resp.allowed()) {
      std::cout << "  login: " << resp.login() << "  file_transfer: " << resp.file_transfer();
      if (resp.max_session_seconds() > 0) {
        std::cout << "  max_session: "
                  << FormatDuration(std::chrono::seconds(resp.max_session_seconds()));
      }
      if (resp.require_approval()) std::cout << "  approval required";
      std::cout << "\n";
    }
    *rc = resp.allowed() ? kExitOk : kExitDenied;
  });
}

}  // namespace portcullis::cli
