// Recorder benchmark (`make bench`): how fast a session thread can hand
// terminal output to the asciicast writer, and what that costs it compared
// with writing the raw bytes to a file itself with write(2) (the baseline an
// unbuffered recorder would impose on the relay loop). Also the end-to-end
// rate until everything is written and synced. Sealing: the cost of one
// checkpoint (prefix hash + fdatasync + sign + append + fdatasync), and the
// write rate of sealed recordings against unsealed ones in the same run.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "auth/ca/ed25519_key.h"
#include "broker/common/clock.h"
#include "recorder/asciicast_factory.h"
#include "recorder/asciicast_writer.h"
#include "recorder/cast_reader.h"
#include "recorder/recording_sealer.h"
#include "recorder/seal_format.h"
#include "recorder/utf8_json.h"

namespace pc = portcullis;
using Steady = std::chrono::steady_clock;

static double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The recording key, in memory.
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

static BenchSigner g_signer;

// `paced`: the caller waits while the recorder's backlog is above half its
// buffer, as a relay applying backpressure would.
static void Bench(const std::string& dir, size_t event_size, size_t total_bytes, bool paced) {
  // Typical terminal output: printable text with escape sequences and CRLF.
  std::string event;
  while (event.size() < event_size) event += "\x1b[32mok\x1b[0m line of output \xe2\x82\xac\r\n";
  event.resize(event_size);
  const size_t n = total_bytes / event_size;

  std::string raw = dir + "/raw." + std::to_string(event_size);
  int fd = ::open(raw.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  auto t0 = Steady::now();
  for (size_t i = 0; i < n; ++i) {
    if (::write(fd, event.data(), event.size()) != static_cast<ssize_t>(event.size())) std::abort();
  }
  ::fdatasync(fd);
  double raw_s = Seconds(t0, Steady::now());
  ::close(fd);

  pc::recorder::AsciicastFactoryOptions opts;
  opts.dir = dir;
  opts.min_free_bytes = 0;
  opts.signer = &g_signer;
  pc::recorder::AsciicastFactory factory(opts, pc::SystemClock::Get());
  pc::session::RecordingInfo info;
  info.session_id = "bench" + std::to_string(event_size) + (paced ? "p" : "");
  auto rec = factory.OpenTerminal(info);
  if (!rec.ok()) std::abort();
  t0 = Steady::now();
  for (size_t i = 0; i < n; ++i) {
    if (paced) {
      while ((*rec)->Backlog() > opts.buffer_cap / 2) ::usleep(100);
    }
    (*rec)->Output(event);
  }
  double caller_s = Seconds(t0, Steady::now());
  bool healthy = (*rec)->Health().ok();
  bool closed = (*rec)->Close("bench").ok();
  double total_s = Seconds(t0, Steady::now());

  double mib = static_cast<double>(n * event_size) / (1 << 20);
  std::printf(
      "recorder %6zu-byte events%s: session thread %.2f M events/s (%.0f MiB/s), "
      "%.2fx the time of raw write(2); written+synced %.0f MiB/s; %s\n",
      event_size, paced ? " (backpressure)" : "", n / caller_s / 1e6, mib / caller_s, caller_s / raw_s, mib / total_s,
      healthy && closed ? "healthy" : "FAILED (buffer cap exceeded: disk slower than caller)");
}

// The formatting pass alone: terminal bytes to a JSON string body.
static void BenchEscaperOn(const char* what, const std::string& line) {
  std::string chunk;
  while (chunk.size() < (32 << 10)) chunk += line;
  const int n = 8192;  // 256 MiB
  pc::recorder::Utf8JsonEscaper esc;
  std::string out;
  auto t0 = Steady::now();
  size_t produced = 0;
  for (int i = 0; i < n; ++i) {
    out.clear();
    esc.Append(chunk, &out);
    produced += out.size();
  }
  double s = Seconds(t0, Steady::now());
  std::printf("recorder escaper (%s): %.0f MiB/s (%.2f bytes out per byte in)\n", what,
              static_cast<double>(chunk.size()) * n / (1 << 20) / s,
              static_cast<double>(produced) / (static_cast<double>(chunk.size()) * n));
}

static void BenchEscaper() {
  BenchEscaperOn("coloured output", "\x1b[32mok\x1b[0m line of output \xe2\x82\xac\r\n");
  BenchEscaperOn("76-column text", std::string(76, 'Q') + "\r\n");
  // `cat` of a binary file on a terminal: the worst case (every ill-formed
  // byte is a U+FFFD, every control byte a \u00XX).
  std::string binary(32 << 10, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (char& c : binary) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 56);
  }
  BenchEscaperOn("random binary", binary);
}

// One checkpoint after each 4 KiB written: what Seal() costs the writer
// thread (the session thread never waits for it).
static void BenchCheckpoint(const std::string& dir) {
  const std::string path = dir + "/cp.0.cast";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  pc::recorder::SealOptions so;
  so.signer = &g_signer;
  so.recording_id = "cp.0";
  so.seal_path = dir + "/cp.0.seal";
  auto sealer = pc::recorder::RecordingSealer::Create(so);
  if (!sealer.ok()) std::abort();
  const std::string chunk(4096, 'c');
  std::vector<double> micros;
  constexpr int kCheckpoints = 300;
  for (int i = 0; i < kCheckpoints; ++i) {
    if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) std::abort();
    (*sealer)->Wrote(chunk, i * 1000);
    auto t0 = Steady::now();
    if (!(*sealer)->Seal(fd, path).ok()) std::abort();
    micros.push_back(Seconds(t0, Steady::now()) * 1e6);
  }
  ::close(fd);
  std::sort(micros.begin(), micros.end());
  // Signing alone, for scale.
  auto t0 = Steady::now();
  for (int i = 0; i < kCheckpoints; ++i) {
    if (!g_signer.SignRecordingSeal("portcullis-checkpoint/1 cp.0 1 2 3.000000 x").ok()) {
      std::abort();
    }
  }
  const double sign_us = Seconds(t0, Steady::now()) * 1e6 / kCheckpoints;
  std::printf(
      "recorder seal cost per checkpoint (prefix hash + fdatasync + sign + append + fdatasync, "
      "%d checkpoints): median %.0f us, p99 %.0f us, max %.0f us; of which signing %.0f us\n",
      kCheckpoints, micros[micros.size() / 2], micros[micros.size() * 99 / 100], micros.back(),
      sign_us);
}

// The same paced 16 KiB-event stream into a sealed recording (factory:
// running hash, checkpoints every 4 s / 16 MiB, manifest at Close) and an
// unsealed one (the bare writer on a BufferedFile), until written and synced.
static void BenchSealedVsUnsealed(const std::string& dir) {
  std::string event;
  while (event.size() < (16u << 10)) event += "\x1b[32mok\x1b[0m line of output \xe2\x82\xac\r\n";
  event.resize(16u << 10);
  const size_t n = (256u << 20) / event.size();
  const double mib = static_cast<double>(n * event.size()) / (1 << 20);
  auto run = [&](pc::session::TerminalRecorder* rec) {
    auto t0 = Steady::now();
    for (size_t i = 0; i < n; ++i) {
      while (rec->Backlog() > pc::recorder::BufferedFile::kDefaultBufferCap / 2) ::usleep(100);
      rec->Output(event);
    }
    if (!rec->Close("bench").ok()) std::abort();
    return mib / Seconds(t0, Steady::now());
  };
  pc::recorder::AsciicastFactoryOptions opts;
  opts.dir = dir;
  opts.min_free_bytes = 0;
  opts.signer = &g_signer;
  pc::recorder::AsciicastFactory factory(opts, pc::SystemClock::Get());
  auto pool = std::make_shared<pc::recorder::WriterPool>();
  // Alternating rounds; the best of each, so page-cache warm-up does not
  // favour either.
  double plain_rate = 0, sealed_rate = 0;
  for (int round = 0; round < 2; ++round) {
    pc::session::RecordingInfo info;
    info.session_id = "plain" + std::to_string(round);
    const std::string plain_path = dir + "/" + info.session_id + ".0.cast";
    int fd = ::open(plain_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
    pc::recorder::AsciicastWriter plain(info, pc::SystemClock::Get()->Now(),
                                        pc::SystemClock::Get(), pool, fd, plain_path, {});
    plain_rate = std::max(plain_rate, run(&plain));
    std::filesystem::remove(plain_path);

    info.session_id = "sealed" + std::to_string(round);
    auto sealed = factory.OpenTerminal(info);
    if (!sealed.ok()) std::abort();
    sealed_rate = std::max(sealed_rate, run(sealed->get()));
    std::filesystem::remove(factory.PathFor(info, info.started));
  }
  std::printf(
      "recorder sealed vs unsealed, 16384-byte events, 256 MiB written+synced: sealed %.0f MiB/s, "
      "unsealed %.0f MiB/s, ratio %.2f\n",
      sealed_rate, plain_rate, sealed_rate / plain_rate);
}

// Reading recordings back (CastReader: open, header, every event) against
// open + read(2) of the same bytes into a 64 KiB buffer + close, in the same
// run: a small recording (what a reviewer's listing or a search opens by the
// thousand) and a large one (throughput).
static void BenchCastReaderOn(const std::string& dir, const char* what, size_t events, int rounds) {
  std::string body =
      R"({"version": 2, "width": 100, "height": 30, "timestamp": 1700000000, "env": {"TERM": "xterm"}})"
      "\n";
  for (size_t i = 0; i < events; ++i) {
    body += "[" + std::to_string(i) + ".5, \"o\", \"\\u001b[32mok\\u001b[0m line of output \\r\\n\"]\n";
  }
  const std::string path = dir + "/read.cast";
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, body.data(), body.size()) != static_cast<ssize_t>(body.size())) std::abort();
    ::close(fd);
  }
  auto t0 = Steady::now();
  size_t raw_bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) std::abort();
    static char buf[64 << 10];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) raw_bytes += static_cast<size_t>(n);
    ::close(fd);
  }
  const double raw_s = Seconds(t0, Steady::now());
  t0 = Steady::now();
  size_t read_events = 0;
  for (int r = 0; r < rounds; ++r) {
    auto reader = pc::recorder::CastReader::Open(path);
    if (!reader.ok()) std::abort();
    pc::recorder::CastEvent ev;
    for (;;) {
      auto more = (*reader)->Next(&ev);
      if (!more.ok()) std::abort();
      if (!*more) break;
      ++read_events;
    }
  }
  const double reader_s = Seconds(t0, Steady::now());
  if (read_events != events * rounds || raw_bytes != body.size() * rounds) std::abort();
  const double mib = static_cast<double>(body.size()) * rounds / (1 << 20);
  std::printf(
      "recorder cast reader, %s (%zu bytes, %zu events) x %d: reader %.1f us per file (%.0f MiB/s), "
      "raw open+read(2)+close %.1f us per file (%.0f MiB/s), ratio %.2f\n",
      what, body.size(), events, rounds, reader_s * 1e6 / rounds, mib / reader_s, raw_s * 1e6 / rounds,
      mib / raw_s, reader_s / raw_s);
  std::filesystem::remove(path);
}

// `bench_recorder reader` runs only the reader figures.
int main(int argc, char** argv) {
  char templ[] = "/tmp/pc-bench-rec-XXXXXX";
  std::string dir = ::mkdtemp(templ);
  if (argc > 1 && std::string(argv[1]) == "reader") {
    BenchCastReaderOn(dir, "small recording", 16, 20000);
    BenchCastReaderOn(dir, "large recording", 1u << 20, 3);
    std::filesystem::remove_all(dir);
    return 0;
  }
  BenchEscaper();
  Bench(dir, 64, 64 << 20, false);
  Bench(dir, 16 << 10, 256 << 20, false);
  Bench(dir, 16 << 10, 256 << 20, true);
  BenchCheckpoint(dir);
  BenchSealedVsUnsealed(dir);
  BenchCastReaderOn(dir, "small recording", 16, 20000);
  BenchCastReaderOn(dir, "large recording", 1u << 20, 3);
  std::filesystem::remove_all(dir);
  return 0;
}
