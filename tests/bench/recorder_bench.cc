// Recorder benchmark (`make bench`): how fast a session thread can hand
// terminal output to the asciicast writer, and what that costs it compared
// with writing the raw bytes to a file itself with write(2) (the baseline an
// unbuffered recorder would impose on the relay loop). Also the end-to-end
// rate until everything is written and synced.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "broker/common/clock.h"
#include "recorder/asciicast_factory.h"
#include "recorder/utf8_json.h"

namespace pc = portcullis;
using Steady = std::chrono::steady_clock;

static double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

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
static void BenchEscaper() {
  std::string chunk;
  while (chunk.size() < (32 << 10)) chunk += "\x1b[32mok\x1b[0m line of output \xe2\x82\xac\r\n";
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
  std::printf("recorder escaper: %.0f MiB/s of terminal output (%.2f bytes out per byte in)\n",
              static_cast<double>(chunk.size()) * n / (1 << 20) / s,
              static_cast<double>(produced) / (static_cast<double>(chunk.size()) * n));
}

int main() {
  BenchEscaper();
  char templ[] = "/tmp/pc-bench-rec-XXXXXX";
  std::string dir = ::mkdtemp(templ);
  Bench(dir, 64, 64 << 20, false);
  Bench(dir, 16 << 10, 256 << 20, false);
  Bench(dir, 16 << 10, 256 << 20, true);
  std::filesystem::remove_all(dir);
  return 0;
}
