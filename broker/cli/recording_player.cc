#include "broker/cli/recording_player.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "broker/common/absl_fmt.h"

namespace portcullis::cli {

CastPlayer::CastPlayer(PlayOptions options, Writer write, Sleeper sleep)
    : options_(options),
      write_(std::move(write)),
      sleep_(std::move(sleep)),
      position_(options.from_micros) {}

absl::Status CastPlayer::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (pending_.size() + bytes.size() > kMaxLineBytes) {
        return absl::InvalidArgumentError(
            fmt::format("line {}: longer than {} bytes", line_no_ + 1, kMaxLineBytes));
      }
      pending_.append(bytes);
      return absl::OkStatus();
    }
    absl::Status st;
    if (pending_.empty()) {
      st = Line(bytes.substr(0, nl));
    } else {
      if (pending_.size() + nl > kMaxLineBytes) {
        return absl::InvalidArgumentError(
            fmt::format("line {}: longer than {} bytes", line_no_ + 1, kMaxLineBytes));
      }
      pending_.append(bytes.substr(0, nl));
      st = Line(pending_);
      pending_.clear();
    }
    if (!st.ok()) return st;
    bytes.remove_prefix(nl + 1);
  }
  return absl::OkStatus();
}

absl::Status CastPlayer::Finish() {
  if (!have_header_ && pending_.empty()) {
    return absl::InvalidArgumentError("not an asciicast recording: no header line");
  }
  if (pending_.empty()) return absl::OkStatus();
  std::string last = std::move(pending_);
  pending_.clear();
  absl::Status st = Line(last);
  if (!have_header_) return st;
  return absl::OkStatus();  // a torn last line is not an error
}

absl::Status CastPlayer::Line(std::string_view line) {
  ++line_no_;
  if (!have_header_) {
    auto h = recorder::ParseCastHeader(line);
    if (!h.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("not an asciicast v2 recording: header: {}", h.status().message()));
    }
    header_ = std::move(*h);
    have_header_ = true;
    return absl::OkStatus();
  }
  if (line.empty()) return absl::OkStatus();
  recorder::CastEvent ev;
  if (auto st = recorder::ParseCastEvent(line, &ev); !st.ok()) {
    return absl::InvalidArgumentError(fmt::format("line {}: {}", line_no_, st.message()));
  }
  if (ev.micros > position_) {
    auto delay = std::chrono::microseconds(
        static_cast<int64_t>(std::llround(static_cast<double>(ev.micros - position_) /
                                          options_.speed)));
    if (options_.skip_idle && delay > kIdleCap) delay = kIdleCap;
    if (delay.count() > 0) sleep_(delay);
    position_ = ev.micros;
  }
  if (ev.type == 'o') write_(ev.data);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParsePlayOffset(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        fmt::format("bad time '{}': want seconds (90), MM:SS (59:00) or HH:MM:SS", text));
  };
  if (text.empty() || text.size() > 32) return bad();
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) return bad();
  // Every part is digits; only the last may have a fraction.
  double total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    const bool last = i + 1 == parts.size();
    if (p.empty()) return bad();
    int dots = 0;
    for (char c : p) {
      if (c == '.') {
        ++dots;
      } else if (c < '0' || c > '9') {
        return bad();
      }
    }
    if (dots > 1 || (dots == 1 && !last) || p.front() == '.' || p.back() == '.') return bad();
    double v = std::stod(std::string(p));
    if (i > 0 && v >= 60) return bad();
    total = total * 60 + v;
  }
  if (total > 3650.0 * 86400) return bad();
  return static_cast<int64_t>(std::llround(total * 1e6));
}

std::string FormatSessionTime(int64_t micros) {
  int64_t s = micros < 0 ? 0 : micros / 1'000'000;
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

}  // namespace portcullis::cli
