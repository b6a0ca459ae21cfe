// `portcullis recordings ...`: the catalogue (ls), replay (play), evidence
// (export, verify), graphical sessions' input, search, legal hold and
// retention (hold, prune).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "broker/cli/commands.h"
#include "broker/cli/graphical_export.h"
#include "broker/cli/recording_input.h"
#include "broker/cli/recording_player.h"
#include "broker/cli/recording_view.h"
#include "broker/common/display_text.h"
#include "broker/common/printable.h"
#include "broker/common/time_format.h"
#include "portcullis/v1/recordings.grpc.pb.h"

namespace portcullis::cli {
namespace {

// Recording fields carry what clients sent (logins, commands, printed
// text): no control byte may reach the terminal.
std::string Shown(const std::string& s) { return Printable(s, std::string::npos); }

int64_t Micros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1'000'000 + ts.nanos() / 1000;
}

std::string Time(const google::protobuf::Timestamp& ts) {
  return FormatUtc(FromUnix(ts.seconds()));
}


std::string State(const v1::Recording& r) { return r.has_deleted() ? "deleted" : r.state(); }

nlohmann::json ToJson(const v1::Recording& r) {
  auto opt_time = [](bool has, const google::protobuf::Timestamp& ts) {
    return has ? nlohmann::json(FormatUtc(TimePoint(std::chrono::microseconds(Micros(ts))), true))
               : nlohmann::json();
  };
  return {{"id", r.id()},
          {"session_id", r.session_id()},
          {"channel", r.channel()},
          {"user", r.user()},
          {"login", r.login()},
          {"target", r.target()},
          {"protocol", r.protocol()},
          {"source", r.source()},
          {"command", r.command()},
          {"started", opt_time(true, r.started())},
          {"ended", opt_time(r.has_ended(), r.ended())},
          {"duration_seconds", static_cast<double>(r.duration_micros()) / 1e6},
          {"size", r.size()},
          {"sha256", r.sha256()},
          {"state", State(r)},
          {"end_reason", r.end_reason()},
          {"failure", r.failure()},
          {"legal_hold", r.legal_hold()},
          {"deleted", opt_time(r.has_deleted(), r.deleted())}};
}

struct FilterArgs {
  std::string user, target, since;
};

void AddFilterOptions(CLI::App* cmd, FilterArgs* f) {
  cmd->add_option("--user", f->user, "Only this user's recordings");
  cmd->add_option("--target", f->target, "Only recordings of this target");
  cmd->add_option("--since", f->since, "Only recordings started at or after (RFC 3339 or YYYY-MM-DD)");
}

// False (after printing why, with *rc set) for a bad --since.
bool FillFilter(const FilterArgs& a, v1::RecordingFilter* f, int* rc) {
  f->set_user(a.user);
  f->set_target(a.target);
  if (!a.since.empty()) {
    auto t = ParseUtc(a.since);
    if (!t.ok()) {
      *rc = CliContext::Fail(t.status());
      return false;
    }
    f->mutable_since()->set_seconds(ToUnix(*t));
  }
  return true;
}

void PrintRecordings(const v1::ListRecordingsResponse& resp) {
  std::printf("%-24s %-14s %-28s %-8s %-20s %-9s %-8s %-10s %s\n", "ID", "USER", "LOGIN@TARGET",
              "PROTOCOL", "START", "DURATION", "SIZE", "STATE", "HOLD");
  for (const auto& r : resp.recordings()) {
    std::string duration = r.has_ended() ? FormatSessionTime(r.duration_micros()) : "-";
    std::printf("%-24s %-14s %-28s %-8s %-20s %-9s %-8s %-10s %s\n", Shown(r.id()).c_str(),
                Shown(r.user()).c_str(), Shown(r.login() + "@" + r.target()).c_str(),
                Shown(r.protocol()).c_str(), Time(r.started()).c_str(), duration.c_str(),
                HumanSize(r.size()).c_str(), Shown(State(r)).c_str(), r.legal_hold() ? "hold" : "-");
  }
}

int SetHold(CliContext& ctx, const std::string& id, bool hold) {
  int rc = kExitError;
  auto stub = ctx.Stub<v1::RecordingService>(&rc);
  if (!stub) return rc;
  v1::SetLegalHoldRequest req;
  req.set_id(id);
  req.set_hold(hold);
  v1::SetLegalHoldResponse resp;
  if (!ctx.Rpc([&](auto* c) { return stub->SetLegalHold(c, req, &resp); }, &rc)) return rc;
  std::cout << "recording " << Shown(resp.recording().id())
            << (hold ? ": on legal hold (retention keeps it)\n" : ": legal hold released\n");
  return kExitOk;
}

}  // namespace

void RegisterRecordingCommands(CLI::App& app, CliContext& ctx, int* rc) {
  auto* rec = app.add_subcommand("recordings", "Session recordings: list, replay, export, verify");
  rec->require_subcommand(0, 1);
  auto legal_hold = std::make_shared<std::string>();
  rec->add_option("--legal-hold", *legal_hold, "Put recording ID on legal hold (as `hold ID`)");
  rec->callback([&ctx, rc, rec, legal_hold] {
    if (!rec->get_subcommands().empty()) return;
    if (legal_hold->empty()) {
      std::cerr << rec->help();
      *rc = kExitUsage;
      return;
    }
    *rc = SetHold(ctx, *legal_hold, true);
  });

  // ls
  struct LsArgs {
    FilterArgs filter;
    bool json = false, all = false;
    int limit = 1000;
  };
  auto ls_args = std::make_shared<LsArgs>();
  auto* ls = rec->add_subcommand("ls", "List recordings, newest first (yours; admins, auditors: all)");
  AddFilterOptions(ls, &ls_args->filter);
  ls->add_flag("--all", ls_args->all, "Also recordings retention deleted");
  ls->add_option("--limit", ls_args->limit, "At most this many (max 10000)")->capture_default_str();
  ls->add_flag("--json", ls_args->json, "JSON output (one array)");
  ls->callback([&ctx, rc, ls_args] {
    v1::ListRecordingsRequest req;
    if (!FillFilter(ls_args->filter, req.mutable_filter(), rc)) return;
    req.set_limit(ls_args->limit);
    req.set_include_deleted(ls_args->all);
    auto stub = ctx.Stub<v1::RecordingService>(rc);
    v1::ListRecordingsResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->List(c, req, &resp); }, rc)) return;
    if (ls_args->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : resp.recordings()) out.push_back(ToJson(r));
      MakeJsonDisplaySafe(out);
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      PrintRecordings(resp);
    }
    *rc = kExitOk;
  });

  // play
  struct PlayArgs {
    std::string what, from;
    double speed = 1.0;
    bool skip_idle = false;
  };
  auto play_args = std::make_shared<PlayArgs>();
  auto* play = rec->add_subcommand("play", "Replay a terminal recording here");
  play->add_option("what", play_args->what, "Recording ID, or a .cast FILE")->required();
  play->add_option("--speed", play_args->speed, "Playback speed (2 = twice as fast)")
      ->check(CLI::Range(0.01, 1000.0));
  play->add_flag("--skip-idle", play_args->skip_idle, "Shorten pauses to at most 1 s");
  play->add_option("--from", play_args->from, "Start at this time: seconds, MM:SS or HH:MM:SS");
  play->callback([&ctx, rc, play_args] {
    PlayOptions opts;
    opts.speed = play_args->speed;
    opts.skip_idle = play_args->skip_idle;
    if (!play_args->from.empty()) {
      auto from = ParsePlayOffset(play_args->from);
      if (!from.ok()) {
        std::cerr << "portcullis: " << from.status().message() << "\n";
        *rc = kExitUsage;
        return;
      }
      opts.from_micros = *from;
    }
    *rc = PlayRecording(ctx, play_args->what, opts);
  });

  // export
  struct ExportArgs {
    std::string id, format = "cast", out, at;
    bool force = false;
  };
  auto exp_args = std::make_shared<ExportArgs>();
  auto* exp = rec->add_subcommand(
      "export", "Save a recording and its seal for offline review, or a graphical one as video or PNG");
  exp->add_option("id", exp_args->id, "Recording ID (graphical recordings: or a .pgr FILE)")->required();
  exp->add_option("--format", exp_args->format,
                  "cast (terminal recordings, with their seal), mp4, webm or png (graphical recordings)")
      ->capture_default_str();
  exp->add_option("--at", exp_args->at, "png: the time to capture (seconds, MM:SS or HH:MM:SS)");
  exp->add_option("-o,--output", exp_args->out, "Output file (cast: ending in .cast)")->required();
  exp->add_flag("--force", exp_args->force, "Overwrite existing files");
  exp->callback([&ctx, rc, exp_args] {
    if (exp_args->format != "cast") {
      *rc = ExportGraphicalRecording(
          ctx, {exp_args->id, exp_args->format, exp_args->at, exp_args->out, exp_args->force});
      return;
    }
    if (!exp_args->at.empty()) {
      std::cerr << "portcullis: --at is for --format png\n";
      *rc = kExitUsage;
      return;
    }
    *rc = ExportRecording(ctx, exp_args->id, exp_args->out, exp_args->force);
  });

  // verify
  auto verify_what = std::make_shared<std::string>();
  auto verify_key = std::make_shared<std::string>();
  auto* verify = rec->add_subcommand(
      "verify", "Check a recording's seal: VALID (exit 0), TRUNCATED (4), INVALID (3)");
  verify->add_option("what", *verify_what, "Recording ID (checked by the broker), or a .cast FILE")
      ->required();
  verify->add_option("--key", *verify_key,
                     "Recording public key for a FILE (from `portcullis ca export --recording`)");
  verify->callback([&ctx, rc, verify_what, verify_key] {
    *rc = VerifyRecordingCommand(ctx, *verify_what, *verify_key);
  });

  // input
  struct InputArgs {
    std::string what;
    bool json = false;
  };
  auto input_args = std::make_shared<InputArgs>();
  auto* input = rec->add_subcommand(
      "input", "What a graphical session's user typed and clicked (admins, auditors)");
  input->add_option("what", input_args->what, "Recording ID, or a .pgr FILE")->required();
  input->add_flag("--json", input_args->json, "JSON output");
  input->callback([&ctx, rc, input_args] {
    *rc = ShowRecordingInput(ctx, input_args->what, input_args->json);
  });

  // search
  struct SearchArgs {
    std::string needle;
    FilterArgs filter;
    int max_hits = 1000;
    bool json = false;
  };
  auto search_args = std::make_shared<SearchArgs>();
  auto* search = rec->add_subcommand(
      "search", "Which recordings printed or typed TEXT, and when (admins, auditors)");
  search->add_option("text", search_args->needle, "Exact text (case-sensitive)")->required();
  AddFilterOptions(search, &search_args->filter);
  search->add_option("--max-hits", search_args->max_hits, "At most this many hits (max 10000)")
      ->capture_default_str();
  search->add_flag("--json", search_args->json, "JSON output (one array)");
  search->callback([&ctx, rc, search_args] {
    v1::SearchRecordingsRequest req;
    req.set_needle(search_args->needle);
    req.set_max_hits(search_args->max_hits);
    if (!FillFilter(search_args->filter, req.mutable_filter(), rc)) return;
    auto stub = ctx.Stub<v1::RecordingService>(rc);
    if (!stub) return;
    auto call = ctx.CallContext();
    call->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
    auto reader = stub->Search(call.get(), req);
    v1::RecordingSearchHit hit;
    nlohmann::json out = nlohmann::json::array();
    while (reader->Read(&hit)) {
      if (search_args->json) {
        out.push_back({{"id", hit.recording_id()},
                       {"user", hit.user()},
                       {"login", hit.login()},
                       {"target", hit.target()},
                       {"seconds", static_cast<double>(hit.micros()) / 1e6},
                       {"stream", hit.stream()},
                       {"context", hit.context()}});
        continue;
      }
      std::cout << Shown(hit.recording_id()) << "  " << Shown(hit.user()) << "  "
                << Shown(hit.login() + "@" + hit.target()) << "  "
                << FormatSessionTime(hit.micros()) << "  "
                << (hit.stream() == "i" ? "(typed) " : "") << Shown(hit.context()) << "\n";
    }
    if (grpc::Status st = reader->Finish(); !st.ok()) {
      *rc = CliContext::Fail(st);
      return;
    }
    if (search_args->json) {
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    *rc = kExitOk;
  });

  // hold
  auto hold_id = std::make_shared<std::string>();
  auto release = std::make_shared<bool>(false);
  auto* hold = rec->add_subcommand("hold", "Legal hold: retention never deletes it (admin)");
  hold->add_option("id", *hold_id, "Recording ID")->required();
  hold->add_flag("--release", *release, "Release the hold instead");
  hold->callback([&ctx, rc, hold_id, release] { *rc = SetHold(ctx, *hold_id, !*release); });

  // prune
  auto* prune = rec->add_subcommand("prune", "Apply retention now (admin)");
  prune->callback([&ctx, rc] {
    auto stub = ctx.Stub<v1::RecordingService>(rc);
    v1::PruneRecordingsResponse resp;
    if (!stub || !ctx.Rpc([&](auto* c) { return stub->Prune(c, {}, &resp); }, rc)) return;
    if (resp.retention_seconds() == 0) {
      std::cout << "retention is off (recordings.retention: 0): nothing deleted\n";
      *rc = kExitOk;
      return;
    }
    for (const auto& id : resp.deleted()) std::cout << "deleted " << Shown(id) << "\n";
    for (const auto& id : resp.failed()) std::cout << "could not delete " << Shown(id) << "\n";
    const int64_t r = resp.retention_seconds();
    std::cout << resp.deleted_size() << " recordings deleted (retention "
              << (r % 86400 == 0 ? std::to_string(r / 86400) + "d"
                                 : FormatDuration(std::chrono::seconds(r)))
              << ")\n";
    *rc = resp.failed_size() == 0 ? kExitOk : kExitError;
  });
}

}  // namespace portcullis::cli
