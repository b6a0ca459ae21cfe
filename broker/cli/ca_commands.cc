#include <iostream>

#include "broker/cli/commands.h"
#include "portcullis/v1/ca.grpc.pb.h"

namespace portcullis::cli {

void RegisterCaCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* ca = app.add_subcommand("ca", "The broker's public keys");
  ca->require_subcommand(1);
  auto ssh = std::make_shared<bool>(false);
  auto tls = std::make_shared<bool>(false);
  auto recording = std::make_shared<bool>(false);
  auto* exp = ca->add_subcommand("export", "Print a CA public key");
  auto* ssh_flag = exp->add_flag("--ssh", *ssh, "The SSH user CA line for targets' TrustedUserCAKeys");
  auto* tls_flag = exp->add_flag("--tls", *tls, "The TLS CA certificate of the API (PEM)");
  auto* rec_flag = exp->add_flag(
      "--recording", *recording,
      "The recording public key (PEM) that verifies recordings offline");
  ssh_flag->excludes(tls_flag);
  rec_flag->excludes(ssh_flag);
  rec_flag->excludes(tls_flag);
  exp->callback([&ctx, rc, ssh, tls, recording] {
    if (!*ssh && !*tls && !*recording) {
      std::cerr << "portcullis: say which key: --ssh, --tls or --recording\n";
      *rc = kExitUsage;
      return;
    }
    auto stub = ctx.Stub<v1::CaService>(rc);
    v1::ExportCaRequest req;
    req.set_kind(*ssh ? v1::CA_KIND_SSH_USER : *tls ? v1::CA_KIND_TLS : v1::CA_KIND_RECORDING);
    v1::ExportCaResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ExportCa(c, req, &resp); }, rc)) return;
    std::cout << resp.data();
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
