#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "broker/cli/commands.h"
#include "broker/common/display_text.h"
#include "broker/common/printable.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/audit.grpc.pb.h"

namespace portcullis::cli {
namespace {

// Audit fields hold what clients sent (e.g. the user name of a failed
// login): no control byte may reach the terminal or start a fake row.
std::string Shown(const std::string& s) { return Printable(s, std::string::npos); }

}  // namespace

void RegisterAuditCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* audit = app.add_subcommand("audit", "The hash-chained audit log (admin)");
  audit->require_subcommand(1);

  struct Args {
    std::string since, type, actor;
    int limit = 1000;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* ls = audit->add_subcommand("ls", "List audit events, oldest first");
  ls->add_option("--since", a->since, "RFC 3339 time or YYYY-MM-DD");
  ls->add_option("--type", a->type, "Event type prefix, e.g. auth. or admin.target");
  ls->add_option("--actor", a->actor, "Only events by this actor");
  ls->add_option("--limit", a->limit, "At most this many events (max 10000)")->capture_default_str();
  ls->add_flag("--json", a->json, "JSON output (one array)");
  ls->callback([&ctx, rc, a] {
    v1::ListEventsRequest req;
    if (!a->since.empty()) {
      auto t = ParseUtc(a->since);
      if (!t.ok()) {
        *rc = CliContext::Fail(t.status());
        return;
      }
      req.mutable_since()->set_seconds(ToUnix(*t));
    }
    req.set_type_prefix(a->type);
    req.set_actor(a->actor);
    req.set_limit(a->limit);
    auto stub = ctx.Stub<v1::AuditService>(rc);
    v1::ListEventsResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->ListEvents(c, req, &resp); }, rc)) return;
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : resp.events()) {
        auto details = nlohmann::json::parse(e.details_json(), nullptr, false);
        out.push_back({{"seq", e.seq()},
                       {"time", e.time()},
                       {"type", e.type()},
                       {"actor", e.actor()},
                       {"subject", e.subject()},
                       {"outcome", e.outcome()},
                       {"source", e.source()},
                       {"details", details.is_discarded() ? nlohmann::json() : details},
                       {"prev_hash", e.prev_hash()},
                       {"hash", e.hash()}});
      }
      MakeJsonDisplaySafe(out);  // rows written before it was done on append
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& e : resp.events()) {
        std::printf("%6lld %s %-20s %-10s %-24s %-8s %s\n", static_cast<long long>(e.seq()),
                    Shown(e.time()).c_str(), Shown(e.type()).c_str(), Shown(e.actor()).c_str(),
                    Shown(e.subject()).c_str(), Shown(e.outcome()).c_str(),
                    e.details_json() == "{}" ? "" : Shown(e.details_json()).c_str());
      }
    }
    *rc = kExitOk;
  });

  auto* verify = audit->add_subcommand("verify", "Check the hash chain (exit 0 intact, 3 broken)");
  verify->callback([&ctx, rc] {
    auto stub = ctx.Stub<v1::AuditService>(rc);
    v1::VerifyChainResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->VerifyChain(c, {}, &resp); }, rc)) return;
    if (resp.ok()) {
      std::cout << "OK: " << resp.rows_checked() << " events, chain intact\n";
      *rc = kExitOk;
    } else {
      std::cout << "BROKEN at event " << resp.first_bad_seq() << ": " << resp.message() << "\n";
      *rc = kExitDenied;
    }
  });
}

}  // namespace portcullis::cli
