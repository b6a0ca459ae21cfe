// Export benchmark (`make bench`): MP4 (H.264) and WebM (VP9) export of
// HMI-like content (a static 1280x1024 screen whose 200x50 clock changes
// once per second) on one core: the process is pinned to CPU 0 and the
// encoders run one thread. Each figure is a multiple of real time (the
// recording's length over the export's wall time), printed beside the
// same-run baseline of the ffmpeg CLI, also on CPU 0 with one thread,
// encoding the same frames at 1 fps (keyframe every 2 s) from a raw pipe.
// Usage: bench_export [seconds of recording, default 300]
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "recorder/export/exporter.h"
#include "tests/recorder/export/synthetic_source.h"
#include "tests/support/test_util.h"

namespace pc = portcullis;
using Steady = std::chrono::steady_clock;

namespace {

double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

pc::testing::SyntheticOptions Hmi(int64_t seconds) {
  pc::testing::SyntheticOptions o;
  o.duration_micros = seconds * 1'000'000;
  o.step_micros = 1'000'000;
  o.moving_rectangle = false;
  return o;
}

// CPU seconds used by this process (all threads) so far.
double CpuSeconds() {
  rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

// CPU seconds used by waited-for children so far.
double ChildCpuSeconds() {
  rusage u {};
  ::getrusage(RUSAGE_CHILDREN, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

long FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// The ffmpeg CLI (pinned by taskset) encoding the same pictures from a
// raw BGRX pipe; returns wall seconds or -1, and CPU seconds (ffmpeg's
// plus this process's generating the frames) in *cpu.
double FfmpegBaseline(pc::recorder::VideoFormat format, int64_t seconds, const std::string& out,
                      double* cpu) {
  const bool mp4 = format == pc::recorder::VideoFormat::kMp4;
  const std::string codec = mp4 ? "-c:v libx264 -preset veryfast -tune stillimage -crf 20"
                                : "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 "
                                  "-crf 32 -b:v 0 -lag-in-frames 0";
  const std::string cmd = "taskset -c 0 ffmpeg -hide_banner -loglevel error -y -f rawvideo "
                          "-pix_fmt bgr0 -s 1280x1024 -r 1 -i - " + codec +
                          " -threads 1 -g 2 -pix_fmt yuv420p " + out;
  pc::testing::SyntheticSource source(Hmi(seconds));
  const auto t0 = Steady::now();
  const double c0 = CpuSeconds(), k0 = ChildCpuSeconds();
  FILE* pipe = ::popen(cmd.c_str(), "w");
  if (pipe == nullptr) return -1;
  pc::recorder::VideoFrame f;
  while (true) {
    absl::StatusOr<bool> more = source.Next(&f);
    if (!more.ok() || !*more) break;
    for (int y = 0; y < f.height; ++y) {
      std::fwrite(f.bgra + static_cast<size_t>(y) * f.stride, 1, static_cast<size_t>(f.width) * 4, pipe);
    }
  }
  const int rc = ::pclose(pipe);
  if (rc != 0) return -1;
  *cpu = CpuSeconds() - c0 + ChildCpuSeconds() - k0;
  return Seconds(t0, Steady::now());
}

void Bench(pc::recorder::VideoFormat format, int64_t seconds, const std::string& dir) {
  const bool mp4 = format == pc::recorder::VideoFormat::kMp4;
  const std::string name = mp4 ? "MP4 (H.264)" : "WebM (VP9)";
  const std::string path = dir + (mp4 ? "/ours.mp4" : "/ours.webm");
  pc::testing::SyntheticSource source(Hmi(seconds));
  pc::recorder::VideoExportOptions o;
  o.format = format;
  o.output_path = path;
  o.metadata = {"bench.1", std::string(64, '0')};
  o.threads = 1;
  const auto t0 = Steady::now();
  const double c0 = CpuSeconds();
  auto r = pc::recorder::ExportVideo(source, o);
  const double ours = Seconds(t0, Steady::now());
  const double ours_cpu = CpuSeconds() - c0;
  if (!r.ok()) {
    std::printf("export %s: FAILED: %s\n", name.c_str(), std::string(r.status().message()).c_str());
    return;
  }
  const std::string base_path = dir + (mp4 ? "/ffmpeg.mp4" : "/ffmpeg.webm");
  double base_cpu = 0;
  const double base = FfmpegBaseline(format, seconds, base_path, &base_cpu);
  // On a shared machine wall time includes waiting for the core; CPU time
  // is what the export costs the core.
  std::printf("export %s of %llds HMI-like 1280x1024 on one core: %.1fx real time by CPU time "
              "(%.2f s CPU), %.1fx by wall time (%.2f s), %lld frames, %.0f KiB; "
              "ffmpeg CLI baseline %.1fx by CPU (%.2f s), %.1fx by wall (%.2f s), %.0f KiB; "
              "ours/baseline speed %.2f by CPU\n",
              name.c_str(), static_cast<long long>(seconds), seconds / ours_cpu, ours_cpu,
              seconds / ours, ours, static_cast<long long>(r->frames), r->bytes / 1024.0,
              base > 0 ? seconds / base_cpu : 0.0, base_cpu, base > 0 ? seconds / base : 0.0, base,
              FileSize(base_path) / 1024.0, base > 0 ? base_cpu / ours_cpu : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t seconds = argc > 1 ? std::atoll(argv[1]) : 300;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  if (::sched_setaffinity(0, sizeof(one), &one) != 0) std::perror("sched_setaffinity");
  pc::testing::TempDir dir("pc-bench-export");
  Bench(pc::recorder::VideoFormat::kMp4, seconds, dir.path());
  Bench(pc::recorder::VideoFormat::kWebm, seconds, dir.path());
  return 0;
}
