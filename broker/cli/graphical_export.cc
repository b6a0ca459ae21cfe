#include "broker/cli/graphical_export.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "broker/cli/recording_fetch.h"
#include "broker/cli/recording_player.h"
#include "broker/cli/recording_view.h"
#include "broker/common/encoding.h"
#include "broker/common/openssl_handles.h"
#include "broker/common/printable.h"
#include "portcullis/v1/recordings.grpc.pb.h"
#include "recorder/export/exporter.h"
#include "recorder/graphical/graphical_reader.h"

namespace portcullis::cli {
namespace {

constexpr int kExitCancelled = 130;  // as a shell reports SIGINT

std::string Shown(const std::string& s) { return Printable(s, std::string::npos); }

// Set by SIGINT while an export runs.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSigint(int) { g_interrupted.store(true); }

// Routes SIGINT to g_interrupted for its lifetime.
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = OnSigint;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_);
  }
  ~SigintGuard() { ::sigaction(SIGINT, &old_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  struct sigaction old_ {};
};

// "receiving [#######.............]  35%" on stderr, when it is a
// terminal; redrawn only when the shown percentage changes.
class ProgressBar {
 public:
  ProgressBar() : tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() { Done(); }
  void Show(const char* phase, double fraction) {
    if (!tty_) return;
    const int pct = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100);
    if (pct == last_pct_ && phase == last_phase_) return;
    last_pct_ = pct;
    last_phase_ = phase;
    constexpr int kWidth = 30;
    const int filled = pct * kWidth / 100;
    std::fprintf(stderr, "\r%-9s [%s%s] %3d%%", phase, std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), pct);
    std::fflush(stderr);
    drawn_ = true;
  }
  void Done() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  bool tty_;
  bool drawn_ = false;
  int last_pct_ = -1;
  const char* last_phase_ = nullptr;
};

// An unlinked temporary file (in $TMPDIR or /tmp); -1 and errno on failure.
// SHA-256 (hex) of a local file.
absl::StatusOr<std::string> FileSha256(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  std::string buf(1 << 16, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return absl::UnavailableError(fmt::format("reading {}: {}", path, std::strerror(errno)));
    }
    if (n == 0) break;
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  return HexEncode(std::string_view(reinterpret_cast<char*>(digest), len));
}

// The file name without directory and extension ("a/b/x.1.pgr" -> "x.1").
std::string StemOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// Fail() with a hint for an existing output file.
int FailExport(const absl::Status& st) {
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    return CliContext::Fail(absl::AlreadyExistsError(fmt::format("{}; --force overwrites it", std::string(st.message()))));
  }
  return CliContext::Fail(st);
}

int Usage(const std::string& msg) {
  std::cerr << "portcullis: " << msg << "\n";
  return kExitUsage;
}

}  // namespace

int ExportGraphicalRecording(CliContext& ctx, const GraphicalExportArgs& args) {
  const bool png = args.format == "png";
  recorder::VideoFormat video = recorder::VideoFormat::kMp4;
  if (!png) {
    auto f = recorder::ParseVideoFormat(args.format);
    if (!f.ok()) return Usage(fmt::format("unknown format {} (cast, mp4, webm or png)", Shown(args.format)));
    video = *f;
    if (!args.at.empty()) return Usage("--at is for --format png");
  }
  int64_t at = 0;
  if (png) {
    if (args.at.empty()) return Usage("--format png needs --at TIME (seconds, MM:SS or HH:MM:SS)");
    auto t = ParsePlayOffset(args.at);
    if (!t.ok()) return Usage(std::string(t.status().message()));
    at = *t;
  }

  SigintGuard sigint;
  ProgressBar bar;
  std::string id, sha256;
  absl::StatusOr<std::unique_ptr<recorder::GraphicalReader>> reader;
  if (LooksLikeFile(args.what)) {
    auto sum = FileSha256(args.what);
    if (!sum.ok()) return CliContext::Fail(sum.status());
    id = StemOf(args.what);
    sha256 = *sum;
    reader = recorder::GraphicalReader::Open(args.what);
  } else {
    int rc = kExitError;
    auto fetched = FetchRecording(
        ctx, args.what,
        [&](const v1::Recording& r) {
          if (const std::string& p = r.protocol(); p != "vnc" && p != "rdp") {
            return absl::FailedPreconditionError(
                fmt::format("{} is a {} (terminal) recording: it exports as --format cast",
                            Shown(args.what), Shown(p)));
          }
          return absl::OkStatus();
        },
        [&](double fraction) {
          if (fraction >= 0) bar.Show("receiving", fraction);
          return !g_interrupted.load();
        },
        /*check_sha256=*/true, &rc);
    bar.Done();
    if (!fetched.ok()) {
      if (fetched.status().code() == absl::StatusCode::kCancelled) {
        if (fetched.status().message().empty()) return rc;
        std::cerr << "portcullis: export cancelled; no file written\n";
        return kExitCancelled;
      }
      if (fetched.status().code() == absl::StatusCode::kFailedPrecondition) {
        return Usage(std::string(fetched.status().message()));
      }
      return CliContext::Fail(fetched.status());
    }
    id = fetched->recording.id();
    sha256 = fetched->recording.sha256();
    reader = recorder::GraphicalReader::OpenFd(fetched->fd, Shown(args.what));
  }
  if (!reader.ok()) return CliContext::Fail(reader.status());
  if ((*reader)->truncated()) {
    std::cerr << "portcullis: warning: the recording was cut short; exporting what it holds\n";
  }

  if (png) {
    auto r = recorder::ExportPng(**reader, at, args.out, args.force);
    if (!r.ok()) return FailExport(r.status());
    std::cout << "exported " << Shown(id) << " at " << FormatSessionTime(at) << " to " << args.out << " ("
              << r->width << "x" << r->height << " PNG, " << r->bytes << " bytes)\n";
    return kExitOk;
  }
  recorder::VideoExportOptions o;
  o.format = video;
  o.output_path = args.out;
  o.overwrite = args.force;
  o.metadata = {id, sha256};
  o.cancel = &g_interrupted;
  o.progress = [&bar](double f) {
    bar.Show("encoding", f);
    return true;
  };
  auto r = recorder::ExportVideo(**reader, o);
  bar.Done();
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kCancelled) {
      std::cerr << "portcullis: export cancelled; no file written\n";
      return kExitCancelled;
    }
    return FailExport(r.status());
  }
  std::cout << "exported " << Shown(id) << " to " << args.out << " (" << r->width << "x" << r->height
            << ", " << FormatSessionTime(r->duration_micros) << ", " << r->frames << " frames, "
            << r->bytes << " bytes; tagged with the recording's id and sha256)\n";
  return kExitOk;
}

}  // namespace portcullis::cli
