// Recordings benchmark (`make bench`):
//  - `recordings search` over 1 GiB of terminal recordings (BENCH_SEARCH_MIB),
//    beside GNU grep -F over the same files in the same run (a raw byte
//    scan that understands neither JSON escapes nor terminal sequences);
//  - seeking to the last minute of a 1-hour recording for `play`: reading
//    from the last checkpoint before 59:00, beside reading every event from
//    the start (what a player without an index does).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "recorder/cast_reader.h"
#include "recorder/cast_search.h"
#include "recorder/utf8_json.h"

namespace pc = portcullis;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : def;
}

// Plausible terminal output: log lines, prompts, colour sequences.
std::string OutputChunk(std::mt19937& rng) {
  static const char* kLines[] = {
      "Nov 22 10:00:01 rtu-01 systemd[1]: Started Session 42 of user maint.",
      "\x1b[1;32m●\x1b[0m modbus-gw.service - Modbus gateway",
      "     Active: \x1b[1;32mactive (running)\x1b[0m since Sun 2026-11-22 09:58:11 CET",
      "maint@rtu-01:~$ ls -la /etc/opt/plc",
      "-rw-r--r-- 1 root root  4096 Nov 21 17:03 ladder-logic.st",
      "PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND",
      "  1 root      20   0  167812  11400   8224 S   0.0   0.1   0:01.23 systemd",
  };
  std::string out;
  const int lines = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < lines; ++i) {
    out += kLines[rng() % (sizeof kLines / sizeof kLines[0])];
    out += "\r\n";
  }
  return out;
}

// Writes asciicast files of about `each_mib` MiB until `total_mib` is
// reached; one of them contains the needle once, near its end.
std::vector<std::string> MakeCorpus(const std::string& dir, int total_mib, int each_mib,
                                    const std::string& needle) {
  std::mt19937 rng(42);
  std::vector<std::string> paths;
  const int files = std::max(1, total_mib / each_mib);
  for (int f = 0; f < files; ++f) {
    std::string path = fmt::format("{}/s{:04}.0.cast", dir, f);
    FILE* out = std::fopen(path.c_str(), "wb");
    if (out == nullptr) std::abort();
    std::fprintf(out,
                 "{\"version\": 2, \"width\": 120, \"height\": 40, \"timestamp\": 1763800000, "
                 "\"portcullis\": {\"session_id\": \"s%04d\", \"channel\": 0}}\n",
                 f);
    size_t written = 0;
    double t = 0;
    std::string line;
    while (written < static_cast<size_t>(each_mib) << 20) {
      std::string text = OutputChunk(rng);
      if (f == files / 2 && written > (static_cast<size_t>(each_mib) << 20) - 4096 &&
          needle.size() > 0) {
        text += needle + " plc-runtime\r\n";
        written = static_cast<size_t>(each_mib) << 20;  // last event of this file
      }
      t += 0.05 + (rng() % 1000) / 1000.0;
      line = fmt::format("[{:.6f}, \"o\", \"", t);
      pc::recorder::AppendJsonEscaped(text, &line);
      line += "\"]\n";
      std::fwrite(line.data(), 1, line.size(), out);
      written += line.size();
    }
    std::fclose(out);
    paths.push_back(path);
  }
  return paths;
}

void BenchSearch(const std::string& dir) {
  const int total = EnvInt("BENCH_SEARCH_MIB", 1024);
  const std::string needle = "systemctl stop";
  auto paths = MakeCorpus(dir, total, 16, needle);
  uint64_t bytes = 0;
  for (const auto& p : paths) bytes += fs::file_size(p);
  // Warm the page cache for both contenders.
  std::system(fmt::format("cat {}/*.cast > /dev/null", dir).c_str());

  auto t0 = Steady::now();
  int hits = 0;
  for (const auto& p : paths) {
    auto st = pc::recorder::SearchRecording(p, needle, [&](const pc::recorder::SearchHit&) { ++hits; });
    if (!st.ok()) {
      std::fprintf(stderr, "search failed: %s\n", std::string(st.message()).c_str());
      std::abort();
    }
  }
  const double ours = Seconds(t0, Steady::now());
  t0 = Steady::now();
  const int rc = std::system(
      fmt::format("LC_ALL=C grep -F -c -- '{}' {}/*.cast > /dev/null", needle, dir).c_str());
  const double grep = Seconds(t0, Steady::now());
  const double mib = static_cast<double>(bytes) / (1 << 20);
  std::printf("recordings search over %.0f MiB (%zu recordings, page cache warm)\n", mib,
              paths.size());
  std::printf("  grep -F (raw bytes)      %7.2f s  %7.0f MiB/s  (exit %d)\n", grep, mib / grep,
              WEXITSTATUS(rc));
  std::printf("  portcullis search        %7.2f s  %7.0f MiB/s  %d hit(s)   ratio vs grep %.2f\n",
              ours, mib / ours, hits, ours / grep);
  std::fflush(stdout);
  for (const auto& p : paths) fs::remove(p);
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/pc-bench-recordings.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  BenchSearch(dir);
  fs::remove_all(dir);
  return 0;
}
