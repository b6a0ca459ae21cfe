// Recordings benchmark (`make bench`):
//  - `recordings search` over 1 GiB of terminal recordings (BENCH_SEARCH_MIB),
//    beside GNU grep -F over the same files in the same run (a raw byte
//    scan that understands neither JSON escapes nor terminal sequences);
//  - seeking to the last minute of a 1-hour recording for `play`: a busy,
//    sealed 1-hour recording is written with the real recorder (a fake
//    clock stands in for the hour) into a real broker's data directory and
//    catalogue; `portcullis recordings play ID --from 59:00` through the
//    broker (which starts at the last signed checkpoint before 59:00) is
//    timed beside `portcullis recordings play FILE --from 59:00` on the
//    same file (no index: every event from the start is read).
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "auth/ca/ed25519_key.h"
#include "broker/common/clock.h"
#include "broker/audit/audit_log.h"
#include "broker/core/recording_catalogue.h"
#include "broker/store/database.h"
#include "broker/store/recording_repo.h"
#include "recorder/asciicast_factory.h"
#include "recorder/cast_reader.h"
#include "recorder/cast_search.h"
#include "recorder/seal_format.h"
#include "recorder/utf8_json.h"
#include "tests/integration/broker_fixture.h"

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

// Signs with the broker's own recording key (read from its data dir).
class KeySigner final : public pc::session::RecordingSigner {
 public:
  explicit KeySigner(pc::ca::Ed25519Key key) : key_(std::move(key)) {}
  absl::StatusOr<std::string> SignRecordingSeal(std::string_view payload) override {
    if (!pc::recorder::IsSealPayload(payload)) return absl::InvalidArgumentError("not a seal");
    return key_.Sign(payload);
  }
  std::string RecordingPublicKey() const override { return key_.PublicRaw(); }

 private:
  pc::ca::Ed25519Key key_;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "bench_recordings: %s\n", why.c_str());
  std::exit(1);
}

// Printed by the first event at or after 59:00 of the benchmark hour.
constexpr std::string_view kMinuteMark = "MINUTE-59-STARTS-HERE";

struct PlayTiming {
  double first_byte = 0;  // s until the first byte on stdout
  double mark = 0;        // s until kMinuteMark was on stdout
  double total = 0;       // s until it exits
  size_t bytes = 0;
};

// Runs the CLI with stdout into a pipe; times the first byte, the minute
// mark and the exit.
PlayTiming TimePlay(const std::string& home, const std::vector<std::string>& args) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) Die("pipe");
  const auto t0 = Steady::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);
    ::setenv("PORTCULLIS_HOME", home.c_str(), 1);
    std::vector<char*> argv;
    std::string cli = pc::testing::CliPath();
    argv.push_back(cli.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  PlayTiming t;
  char buf[65536];
  std::string tail;  // the last bytes read, for a mark split across reads
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (t.bytes == 0) t.first_byte = Seconds(t0, Steady::now());
    t.bytes += static_cast<size_t>(n);
    if (t.mark == 0) {
      tail.append(buf, static_cast<size_t>(n));
      if (tail.find(kMinuteMark) != std::string::npos) {
        t.mark = Seconds(t0, Steady::now());
      } else if (tail.size() > kMinuteMark.size()) {
        tail.erase(0, tail.size() - kMinuteMark.size());
      }
    }
  }
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  t.total = Seconds(t0, Steady::now());
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) Die("portcullis recordings play failed");
  if (t.mark == 0) Die("the minute mark was not played");
  return t;
}

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void BenchSeek() {
  pc::testing::BrokerFixture broker;
  if (auto st = broker.Init(); !st.ok()) Die(std::string(st.message()));
  const std::string data = broker.data_dir();
  auto key = pc::ca::Ed25519Key::LoadPrivateFile(data + "/keys/recording_ed25519");
  if (!key.ok()) Die(std::string(key.status().message()));
  KeySigner signer(std::move(*key));

  // A busy hour: an output event every 20 ms (1 to 12 log lines each),
  // catalogued by the broker's own catalogue on its database.
  pc::FakeClock clock(1'795'424'400);  // 2026-11-23T09:00:00Z
  auto db = pc::store::Database::Open(broker.db_path(), pc::SystemClock::Get());
  if (!db.ok()) Die(std::string(db.status().message()));
  pc::store::RecordingRepo repo(db->get());
  pc::audit::AuditLog audit(db->get(), pc::SystemClock::Get(), data + "/audit.anchor");
  pc::recorder::AsciicastFactoryOptions opts;
  opts.dir = data + "/recordings";
  pc::core::RecordingCatalogue catalogue(&repo, &audit, &clock, opts.dir, std::chrono::seconds(0));
  opts.min_free_bytes = 0;
  opts.signer = &signer;
  opts.observer = &catalogue;
  pc::recorder::AsciicastFactory factory(opts, &clock);
  pc::session::RecordingInfo info;
  info.session_id = "benchhour";
  info.user = pc::testing::kAdminName;
  info.login = "maint";
  info.target = "rtu-01";
  info.protocol = "ssh";
  info.source = "127.0.0.1:50000";
  info.started = clock.Now();
  const std::string path = factory.PathFor(info, info.started);
  auto rec = factory.OpenTerminal(info);
  if (!rec.ok()) Die(std::string(rec.status().message()));
  std::mt19937 rng(7);
  const auto step = std::chrono::milliseconds(20);
  bool marked = false;
  for (int i = 0; i < 3600 * 50; ++i) {
    clock.Advance(step);
    while ((*rec)->Backlog() > (4u << 20)) ::usleep(200);
    std::string out = OutputChunk(rng);
    if (!marked && clock.Now() - info.started >= std::chrono::minutes(59)) {
      out = std::string(kMinuteMark) + "\r\n" + out;
      marked = true;
    }
    (*rec)->Output(out);
  }
  if (auto st = (*rec)->Close("client closed"); !st.ok()) Die(std::string(st.message()));
  const uint64_t size = fs::file_size(path);

  db->reset();  // the broker opens it next
  if (auto st = broker.Start(); !st.ok()) Die(std::string(st.message()));
  if (broker.LoginAdmin().exit_code != 0) Die("admin login failed");
  const std::string home = broker.AdminHome();
  // Warm the page cache and the connection path once each.
  const std::vector<std::string> via_broker = {"recordings", "play", info.RecordingId(), "--from",
                                               "59:00", "--speed", "1000"};
  const std::vector<std::string> from_file = {"recordings", "play", path, "--from", "59:00",
                                              "--speed", "1000"};
  (void)TimePlay(home, via_broker);
  (void)TimePlay(home, from_file);
  std::vector<double> seek_first, seek_mark, file_mark;
  for (int i = 0; i < 5; ++i) {
    auto s = TimePlay(home, via_broker);
    seek_first.push_back(s.first_byte);
    seek_mark.push_back(s.mark);
    file_mark.push_back(TimePlay(home, from_file).mark);
  }
  std::printf("seek to the last minute of a 1-hour recording (%.0f MiB, an event every 20 ms): "
              "time from starting `play --from 59:00` to the output of 59:00 on screen (median of "
              "5, page cache warm)\n",
              static_cast<double>(size) / (1 << 20));
  std::printf("  no index: play FILE (reads every event from the start)   %7.1f ms\n",
              MedianOf(file_mark) * 1000.0);
  std::printf("  portcullis: play ID via the broker (from the last checkpoint before 59:00) "
              "%7.1f ms (first byte %.1f ms)   ratio %.3f   (target <= 200 ms)\n",
              MedianOf(seek_mark) * 1000.0, MedianOf(seek_first) * 1000.0,
              MedianOf(seek_mark) / MedianOf(file_mark));
  std::fflush(stdout);
  if (auto st = broker.Stop(); !st.ok()) Die(std::string(st.message()));
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/pc-bench-recordings.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  BenchSearch(dir);
  fs::remove_all(dir);
  BenchSeek();
  return 0;
}
