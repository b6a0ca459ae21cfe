// Graphical recording benchmark (`make bench`): what a VNC session's
// recording costs on disk at 1280x1024 (an HMI-like screen, a fake clock),
// beside raw BGRA baselines, and how long a seek to an arbitrary second of
// an 8-hour recording takes (open = the one-pass index; seek = decode from
// the nearest keyframe). Recordings are written exactly as the daemon
// writes them (AsciicastFactory::OpenGraphical, sealed).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "auth/ca/ed25519_key.h"
#include "broker/common/clock.h"
#include "recorder/asciicast_factory.h"
#include "recorder/export/exporter.h"
#include "recorder/graphical/graphical_reader.h"
#include "recorder/seal_format.h"

namespace pc = portcullis;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

class BenchSigner final : public pc::session::RecordingSigner {
 public:
  absl::StatusOr<std::string> SignRecordingSeal(std::string_view payload) override {
    if (!pc::recorder::IsSealPayload(payload)) return absl::InvalidArgumentError("not a seal");
    return key_.Sign(payload);
  }
  std::string RecordingPublicKey() const override { return key_.PublicRaw(); }

 private:
  pc::ca::Ed25519Key key_ = pc::ca::Ed25519Key::Generate();
};

constexpr int kW = 1280, kH = 1024;

struct Canvas {
  std::vector<uint8_t> px = std::vector<uint8_t>(size_t(kW) * kH * 4);
  void Fill(int x, int y, int w, int h, uint32_t bgr) {
    for (int r = y; r < y + h && r < kH; ++r) {
      for (int c = x; c < x + w && c < kW; ++c) std::memcpy(&px[(size_t(r) * kW + c) * 4], &bgr, 4);
    }
  }
  // A 5x7 glyph per character (its bits drawn from the character), `scale`
  // pixels per dot.
  void Text(int x, int y, const std::string& s, int scale, uint32_t fg) {
    for (size_t i = 0; i < s.size(); ++i) {
      std::mt19937 g(static_cast<unsigned char>(s[i]) * 2654435761u);
      for (int gy = 0; gy < 7; ++gy) {
        for (int gx = 0; gx < 5; ++gx) {
          if (s[i] != ' ' && g() % 2) Fill(x + int(i) * 6 * scale + gx * scale, y + gy * scale, scale, scale, fg);
        }
      }
    }
  }
};

// An HMI: title bar, panels with labels and values; `camera`: one panel
// of 600x400 is a noisy video still (incompressible).
Canvas Hmi(bool camera = false) {
  Canvas c;
  c.Fill(0, 0, kW, kH, 0x303030);
  c.Fill(0, 0, kW, 40, 0x1f4f8f);
  c.Text(10, 10, "LINE 3 - PUMP STATION - OVERVIEW", 3, 0xffffff);
  std::mt19937 rng(42);
  for (int p = 0; p < 12; ++p) {
    const int px = 20 + (p % 4) * 310, py = 60 + (p / 4) * 250;
    c.Fill(px, py, 290, 230, 0x484848);
    c.Fill(px, py, 290, 24, 0x5a5a5a);
    c.Text(px + 6, py + 6, "PUMP P-" + std::to_string(100 + p), 2, 0xe0e0e0);
    for (int l = 0; l < 8; ++l) {
      c.Text(px + 8, py + 34 + l * 24, "TAG " + std::to_string(rng() % 10000), 2, 0xc0c0c0);
      c.Text(px + 170, py + 34 + l * 24, std::to_string(rng() % 1000) + "." + std::to_string(rng() % 10),
             2, (l % 3 == 0) ? 0x40ff40 : 0xffffff);
    }
  }
  if (camera) {
    std::mt19937 noise(99);
    for (int y = 560; y < 960; ++y) {
      for (int x = 660; x < 1260; ++x) {
        const uint32_t v = noise() & 0x00ffffff;
        std::memcpy(&c.px[(size_t(y) * kW + x) * 4], &v, 4);
      }
    }
  }
  return c;
}

std::string Clock(int64_t s) {
  char b[16];
  std::snprintf(b, sizeof b, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600 % 24),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return b;
}

struct Run {
  std::string path;
  double wall_seconds = 0;
  uint64_t bytes = 0;
};

// `seconds` of session: the screen once, then every second either the same
// 64x64 tile resent (static) or the clock redrawn (a 200x50 region).
Run Record(const std::string& dir, const std::string& id, int64_t seconds, bool clock_changes,
           bool camera = false) {
  static BenchSigner signer;
  pc::FakeClock clock(1'795'424'400);
  pc::recorder::AsciicastFactoryOptions opts;
  opts.dir = dir;
  opts.min_free_bytes = 0;
  opts.signer = &signer;
  opts.checkpoint_interval = std::chrono::hours(1);
  opts.checkpoint_bytes = 64u << 20;
  pc::recorder::AsciicastFactory factory(opts, &clock);
  pc::session::RecordingInfo info;
  info.session_id = id;
  info.protocol = "vnc";
  info.started = clock.Now();
  auto rec = factory.OpenGraphical(info);
  if (!rec.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(rec.status().message()).c_str());
    std::exit(1);
  }
  Canvas c = Hmi(camera);
  const auto t0 = Steady::now();
  (*rec)->Resize(kW, kH);
  (*rec)->Frame(0, 0, kW, kH, c.px.data(), size_t(kW) * 4);
  const int cx = 1060, cy = 2;
  for (int64_t s = 1; s <= seconds; ++s) {
    clock.Advance(1s);
    if (clock_changes) {
      c.Fill(cx, cy, 200, 50, 0x1f4f8f);
      c.Text(cx + 4, cy + 8, Clock(s), 4, 0xffff80);
      const uint8_t* at = c.px.data() + (size_t(cy) * kW + cx) * 4;
      (*rec)->Frame(cx, cy, 200, 50, at, size_t(kW) * 4);
    } else {
      (*rec)->Frame(640, 512, 64, 64, c.px.data() + (size_t(512) * kW + 640) * 4, size_t(kW) * 4);
    }
    // The fake clock runs far ahead of the writer: give it time, as the
    // real second would.
    while ((*rec)->Backlog() > (8u << 20)) std::this_thread::sleep_for(1ms);
    if (!(*rec)->Health().ok()) {
      std::fprintf(stderr, "recording failed: %s\n", std::string((*rec)->Health().message()).c_str());
      std::exit(1);
    }
  }
  if (!(*rec)->Close("client-closed").ok()) std::exit(1);
  Run r;
  r.wall_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  r.path = factory.GraphicalPathFor(info, info.started);
  r.bytes = std::filesystem::file_size(r.path);
  return r;
}

double Mb(double b) { return b / 1e6; }

}  // namespace

int main() {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("pc-graphical-bench-" + std::to_string(::getpid()));
  const double raw_frame = double(kW) * kH * 4;

  Run s = Record(dir, "static", 3600, false);
  std::printf(
      "graphical static screen 1280x1024: %.3f MB/h (target <= 1 MB/h); baseline raw BGRA: "
      "%.1f MB per frame, %.0f MB/h at 1 frame/s (written in %.1f s)\n",
      Mb(double(s.bytes)), Mb(raw_frame), Mb(raw_frame * 3600), s.wall_seconds);

  Run n = Record(dir, "camera", 3600, false, true);
  std::printf(
      "graphical static screen with a 600x400 noisy camera still: %.3f MB/h (its one keyframe; raw "
      "BGRA of the still: %.2f MB)\n",
      Mb(double(n.bytes)), Mb(600.0 * 400 * 4));

  Run k = Record(dir, "clock", 3600, true);
  std::printf(
      "graphical clock (200x50 changes each second) 1280x1024: %.2f MB/h (target <= 20 MB/h); "
      "baseline raw BGRA of the changed region: %.0f MB/h, of the screen at 1 frame/s: %.0f MB/h "
      "(written in %.1f s)\n",
      Mb(double(k.bytes)), Mb(200.0 * 50 * 4 * 3600), Mb(raw_frame * 3600), k.wall_seconds);

  Run e = Record(dir, "eight", 8 * 3600, true);
  const auto o0 = Steady::now();
  auto r = pc::recorder::GraphicalReader::Open(e.path);
  const double open_ms = std::chrono::duration<double, std::milli>(Steady::now() - o0).count();
  if (!r.ok()) {
    std::fprintf(stderr, "reader: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  std::mt19937 rng(8);
  std::vector<double> ms;
  for (int i = 0; i < 25; ++i) {
    const int64_t at = int64_t(rng() % (8 * 3600)) * 1'000'000;
    const auto t0 = Steady::now();
    auto f = (*r)->SeekTo(at);
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    if (!f.ok()) {
      std::fprintf(stderr, "seek: %s\n", std::string(f.status().message()).c_str());
      return 1;
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "graphical 8 h clock recording: %.1f MB, %zu keyframes; open (index) %.0f ms; seek to an "
      "arbitrary second: median %.1f ms, max %.1f ms (target <= 250 ms); baseline: decoding from "
      "the start, %.0f ms\n",
      Mb(double(e.bytes)), (*r)->keyframes(), open_ms, ms[ms.size() / 2], ms.back(),
      [&] {
        // Without the index: every picture from the start.
        auto again = pc::recorder::GraphicalReader::Open(e.path);
        pc::recorder::VideoFrame f;
        const auto t0 = Steady::now();
        while (again.ok() && (*again)->Next(&f).value_or(false)) {
        }
        return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
      }());
  // What `recordings export ID --format png --at T` does once the file is
  // local: open (the one-pass index), seek, encode and write the PNG.
  std::vector<double> png_ms;
  const std::string png = dir + "/at.png";
  for (int i = 0; i < 10; ++i) {
    const int64_t at = int64_t(rng() % (8 * 3600)) * 1'000'000;
    const auto t0 = Steady::now();
    auto src = pc::recorder::GraphicalReader::Open(e.path);
    if (!src.ok()) return 1;
    auto done = pc::recorder::ExportPng(**src, at, png, /*overwrite=*/true);
    png_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    if (!done.ok()) {
      std::fprintf(stderr, "png: %s\n", std::string(done.status().message()).c_str());
      return 1;
    }
  }
  std::sort(png_ms.begin(), png_ms.end());
  std::printf(
      "graphical 8 h clock recording, open + seek + PNG written at an arbitrary second: median "
      "%.0f ms, max %.0f ms (target <= 250 ms; %.2fx the target at the max)\n",
      png_ms[png_ms.size() / 2], png_ms.back(), png_ms.back() / 250.0);
  std::filesystem::remove_all(dir);
  return 0;
}
