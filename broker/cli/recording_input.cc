#include "broker/cli/recording_input.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/cli/recording_fetch.h"
#include "broker/cli/recording_view.h"
#include "broker/common/display_text.h"
#include "broker/common/encoding.h"
#include "broker/common/printable.h"
#include "portcullis/v1/recordings.grpc.pb.h"
#include "recorder/graphical/graphical_reader.h"
#include "recorder/graphical/input_log.h"

namespace portcullis::cli {
namespace {

using recorder::GraphicalInputEvent;

std::string Clock(int64_t micros) {
  if (micros < 0) micros = 0;
  const int64_t ms = micros / 1000, s = ms / 1000;
  return fmt::format("{:02}:{:02}:{:02}.{:03}", s / 3600, (s / 60) % 60, s % 60, ms % 1000);
}

// The typed text's lines, each made safe to display.
std::vector<std::string> TypedLines(const recorder::GraphicalReader& r) {
  const std::string text = recorder::TypedText(r.input_events());
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(DisplayText(text.substr(start, nl - start)));
    start = nl + 1;
  }
  return lines;
}

void PrintText(const recorder::GraphicalReader& r) {
  std::printf("%-12s  %-9s  %s\n", "TIME", "EVENT", "DETAIL");
  for (const GraphicalInputEvent& ev : r.input_events()) {
    std::string what, detail;
    switch (ev.kind) {
      case GraphicalInputEvent::Kind::kKey:
        if (!ev.down) continue;  // presses; releases add nothing to read
        what = "key";
        detail = recorder::KeysymName(ev.keysym);
        break;
      case GraphicalInputEvent::Kind::kButton:
        what = ev.down ? "press" : "release";
        detail = fmt::format("{} at {},{}", recorder::ButtonName(ev.button), ev.x, ev.y);
        break;
      case GraphicalInputEvent::Kind::kClipboard:
        what = "clipboard";
        detail = fmt::format("{} {} bytes, sha256 {}", ev.to_target ? "to the target" : "from the target",
                             ev.length, HexEncode(ev.sha256));
        break;
    }
    std::printf("%-12s  %-9s  %s\n", Clock(ev.micros).c_str(), what.c_str(), detail.c_str());
  }
  std::printf("\nTyped text:\n");
  const std::vector<std::string> lines = TypedLines(r);
  if (lines.empty()) std::printf("  (none)\n");
  for (const std::string& line : lines) std::printf("  %s\n", line.c_str());
  if (r.truncated()) std::printf("\n(the recording ends inside a record: it was cut)\n");
}

void PrintJson(const recorder::GraphicalReader& r) {
  nlohmann::json events = nlohmann::json::array();
  for (const GraphicalInputEvent& ev : r.input_events()) {
    nlohmann::json j = {{"micros", ev.micros}};
    switch (ev.kind) {
      case GraphicalInputEvent::Kind::kKey:
        j["type"] = "key";
        j["keysym"] = ev.keysym;
        j["key"] = recorder::KeysymName(ev.keysym);
        j["down"] = ev.down;
        break;
      case GraphicalInputEvent::Kind::kButton:
        j["type"] = "button";
        j["button"] = recorder::ButtonName(ev.button);
        j["down"] = ev.down;
        j["x"] = ev.x;
        j["y"] = ev.y;
        break;
      case GraphicalInputEvent::Kind::kClipboard:
        j["type"] = "clipboard";
        j["to_target"] = ev.to_target;
        j["length"] = ev.length;
        j["sha256"] = HexEncode(ev.sha256);
        break;
    }
    events.push_back(std::move(j));
  }
  nlohmann::json out = {{"events", std::move(events)},
                        {"typed_lines", TypedLines(r)},
                        {"truncated", r.truncated()}};
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

int ShowRecordingInput(CliContext& ctx, const std::string& id_or_file, bool json) {
  absl::StatusOr<std::unique_ptr<recorder::GraphicalReader>> r;
  const std::string shown = Printable(id_or_file, std::string::npos);
  if (LooksLikeFile(id_or_file)) {
    r = recorder::GraphicalReader::Open(id_or_file);
  } else {
    int rc = kExitError;
    auto fetched = FetchRecording(ctx, id_or_file, nullptr, nullptr, /*check_sha256=*/false, &rc);
    if (fetched.status().code() == absl::StatusCode::kCancelled) return rc;
    if (!fetched.ok()) return CliContext::Fail(fetched.status());
    r = recorder::GraphicalReader::OpenFd(fetched->fd, shown);
  }
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kDataLoss &&
        std::string(r.status().message()).find("does not name") != std::string::npos) {
      std::cerr << "portcullis: " << shown
                << " is not a graphical recording (`input` lists what VNC and RDP users typed and "
                   "clicked; a terminal session's input is in its replay)\n";
      return kExitUsage;
    }
    return CliContext::Fail(r.status());
  }
  if (json) {
    PrintJson(**r);
  } else {
    PrintText(**r);
  }
  return kExitOk;
}

}  // namespace portcullis::cli
