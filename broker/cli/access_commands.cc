// `portcullis access TARGET`: a one-time connection ticket for a VNC target.
#include <fmt/format.h>

#include <iostream>

#include "broker/cli/commands.h"
#include "portcullis/v1/access.grpc.pb.h"

namespace portcullis::cli {
namespace {

// The host to show for the broker's listener: its configured host, or the
// host the CLI reaches the broker at when that is a wildcard.
std::string ShownHost(const std::string& listen_host, const std::string& broker) {
  if (!listen_host.empty() && listen_host != "0.0.0.0" && listen_host != "::" &&
      listen_host != "[::]")
    return listen_host;
  // broker is HOST:PORT or [V6]:PORT.
  if (!broker.empty() && broker.front() == '[') {
    const size_t close = broker.find(']');
    if (close != std::string::npos) return broker.substr(1, close - 1);
  }
  const size_t colon = broker.rfind(':');
  return colon == std::string::npos ? broker : broker.substr(0, colon);
}

}  // namespace

void RegisterAccessCommands(CLI::App& app, CliContext& ctx, int* rc) {
  struct Args {
    std::string target, login;
  };
  auto a = std::make_shared<Args>();
  auto* access = app.add_subcommand(
      "access", "A one-time ticket to connect to a VNC target with a stock viewer");
  access->add_option("target", a->target, "Target name")->required();
  access->add_option("--login", a->login, "Account on the target (RDP; VNC has none)");
  access->callback([&ctx, rc, a] {
    auto stub = ctx.Stub<v1::AccessService>(rc);
    if (!stub) return;
    v1::AccessRequest req;
    req.set_target(a->target);
    req.set_login(a->login);
    v1::AccessResponse resp;
    if (!ctx.Rpc([&](auto* c) { return stub->Access(c, req, &resp); }, rc)) return;
    auto login = ctx.LoadLogin();
    std::string host = ShownHost(resp.listen_host(), login.ok() ? login->broker : "");
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::cout << fmt::format(
        "ticket  {}  (valid {} s, one connection, only from {}; VNC passwords carry 8 "
        "characters)\n",
        resp.ticket(), resp.ttl_seconds(), resp.source());
    std::cout << fmt::format("vncviewer {}::{}      and enter the ticket as the VNC password\n",
                             host, resp.listen_port());
    std::cout.flush();
    // The response's copy of the ticket is not kept.
    std::string* t = resp.mutable_ticket();
    std::fill(t->begin(), t->end(), '\0');
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
