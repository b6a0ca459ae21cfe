#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "broker/cli/commands.h"
#include "broker/common/display_text.h"
#include "broker/common/printable.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/sessions.grpc.pb.h"

namespace portcullis::cli {
namespace {

// Session fields carry what clients sent (login names, addresses): no
// control byte may reach the terminal.
std::string Shown(const std::string& s) { return Printable(s, std::string::npos); }


std::string Time(const google::protobuf::Timestamp& ts) { return FormatUtc(FromUnix(ts.seconds())); }

}  // namespace

void RegisterSessionCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* sessions = app.add_subcommand("sessions", "Live sessions through the broker");
  sessions->require_subcommand(1);

  auto json = std::make_shared<bool>(false);
  auto* ls = sessions->add_subcommand("ls", "List live sessions (yours; admins: all)");
  ls->add_flag("--json", *json, "JSON output (one array)");
  ls->callback([&ctx, rc, json] {
    auto stub = ctx.Stub<v1::SessionService>(rc);
    v1::ListSessionsResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListSessions(c, {}, &resp); }, rc)) return;
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& s : resp.sessions()) {
        out.push_back({{"id", s.id()},
                       {"user", s.user()},
                       {"login", s.login()},
                       {"target", s.target()},
                       {"protocol", s.protocol()},
                       {"source", s.source()},
                       {"started_at", Time(s.started_at())},
                       {"bytes_up", s.bytes_up()},
                       {"bytes_down", s.bytes_down()},
                       {"deadline", s.has_deadline() ? nlohmann::json(Time(s.deadline()))
                                                     : nlohmann::json()}});
      }
      // Invalid UTF-8 from a client is replaced rather than thrown on.
      MakeJsonDisplaySafe(out);
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      *rc = kExitOk;
      return;
    }
    std::printf("%-12s %-16s %-32s %-8s %-22s %-20s %s\n", "ID", "USER", "LOGIN@TARGET",
                "PROTOCOL", "SOURCE", "STARTED", "BYTES(up/down)");
    for (const auto& s : resp.sessions()) {
      std::printf("%-12s %-16s %-32s %-8s %-22s %-20s %s\n", Shown(s.id()).c_str(),
                  Shown(s.user()).c_str(), Shown(s.login() + "@" + s.target()).c_str(),
                  Shown(s.protocol()).c_str(), Shown(s.source()).c_str(),
                  Time(s.started_at()).c_str(),
                  (HumanSize(s.bytes_up()) + "/" + HumanSize(s.bytes_down())).c_str());
    }
    *rc = kExitOk;
  });

  auto id = std::make_shared<std::string>();
  auto* kill = sessions->add_subcommand("kill", "End a live session now (admin)");
  kill->add_option("id", *id, "Session ID (from `sessions ls`)")->required();
  kill->callback([&ctx, rc, id] {
    auto stub = ctx.Stub<v1::SessionService>(rc);
    v1::KillSessionRequest req;
    req.set_id(*id);
    v1::KillSessionResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->KillSession(c, req, &resp); }, rc)) return;
    std::cout << "killed " << Shown(*id) << "\n";
    *rc = kExitOk;
  });
}

}  // namespace portcullis::cli
