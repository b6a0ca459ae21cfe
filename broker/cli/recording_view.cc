#include "broker/cli/recording_view.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "broker/common/printable.h"
#include "portcullis/v1/recordings.grpc.pb.h"
#include "recorder/recording_format.h"
#include "recorder/seal_format.h"
#include "recorder/verifier.h"

namespace portcullis::cli {
namespace {

// Replay and export can take as long as the session did.
constexpr auto kStreamDeadline = std::chrono::hours(24);
constexpr size_t kBlockBytes = 64 * 1024;
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

std::string Shown(const std::string& s) { return Printable(s, std::string::npos); }

CastPlayer StdoutPlayer(const PlayOptions& options) {
  return CastPlayer(
      options,
      [](std::string_view bytes) { std::fwrite(bytes.data(), 1, bytes.size(), stdout); },
      [](std::chrono::microseconds d) {
        std::fflush(stdout);
        std::this_thread::sleep_for(d);
      });
}

int PlayFile(const std::string& path, const PlayOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return CliContext::Fail(
        absl::NotFoundError(fmt::format("cannot open {}: {}", path, std::strerror(errno))));
  }
  CastPlayer player = StdoutPlayer(options);
  std::string buf(kBlockBytes, '\0');
  absl::Status st;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = absl::InternalError(fmt::format("reading {}: {}", path, std::strerror(errno)));
      break;
    }
    if (n == 0) {
      st = player.Finish();
      break;
    }
    st = player.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!st.ok()) break;
  }
  ::close(fd);
  std::fflush(stdout);
  if (!st.ok()) return CliContext::Fail(absl::Status(st.code(), fmt::format("{}: {}", path, st.message())));
  return kExitOk;
}

int PlayFromBroker(CliContext& ctx, const std::string& id, const PlayOptions& options) {
  int rc = kExitError;
  auto stub = ctx.Stub<v1::RecordingService>(&rc);
  if (!stub) return rc;
  v1::ReadRecordingRequest req;
  req.set_id(id);
  req.set_purpose(v1::READ_PURPOSE_PLAY);
  req.set_from_micros(options.from_micros);
  auto call = ctx.CallContext();
  call->set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
  auto reader = stub->Read(call.get(), req);
  CastPlayer player = StdoutPlayer(options);
  v1::RecordingChunk chunk;
  bool first = true;
  absl::Status st;
  while (st.ok() && reader->Read(&chunk)) {
    if (first) {
      st = player.Feed(chunk.header_line());
      first = false;
    }
    if (st.ok()) st = player.Feed(chunk.data());
  }
  if (!st.ok()) {
    call->TryCancel();
    reader->Finish();
    return CliContext::Fail(absl::Status(st.code(), fmt::format("{}: {}", Shown(id), st.message())));
  }
  grpc::Status gst = reader->Finish();
  std::fflush(stdout);
  if (!gst.ok()) return CliContext::Fail(gst);
  if (absl::Status fin = player.Finish(); !fin.ok()) return CliContext::Fail(fin);
  return kExitOk;
}

// A file written in place of `path` only once complete: "<path>.part.<pid>"
// then link (no overwrite) or rename (--force).
class PartFile {
 public:
  explicit PartFile(std::string path)
      : path_(std::move(path)), tmp_(fmt::format("{}.part.{}", path_, ::getpid())) {}
  ~PartFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!done_) ::unlink(tmp_.c_str());
  }
  absl::Status Open() {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return Errno("cannot create", tmp_);
    return absl::OkStatus();
  }
  absl::Status Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot write", tmp_);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }
  absl::Status Commit(bool force) {
    if (::fsync(fd_) != 0) return Errno("cannot sync", tmp_);
    ::close(fd_);
    fd_ = -1;
    if (force) {
      if (::rename(tmp_.c_str(), path_.c_str()) != 0) return Errno("cannot write", path_);
    } else {
      if (::link(tmp_.c_str(), path_.c_str()) != 0) return Errno("cannot write", path_);
      ::unlink(tmp_.c_str());
    }
    done_ = true;
    return absl::OkStatus();
  }

 private:
  static absl::Status Errno(std::string_view what, const std::string& p) {
    return absl::UnavailableError(fmt::format("{} {}: {}", what, p, std::strerror(errno)));
  }
  std::string path_, tmp_;
  int fd_ = -1;
  bool done_ = false;
};

}  // namespace

bool LooksLikeFile(const std::string& arg) {
  const size_t dot = arg.rfind('.');
  return arg.find('/') != std::string::npos ||
         (dot != std::string::npos && recorder::ValidExtension(arg.substr(dot + 1)));
}

int PlayRecording(CliContext& ctx, const std::string& id_or_file, const PlayOptions& options) {
  return LooksLikeFile(id_or_file) ? PlayFile(id_or_file, options)
                                   : PlayFromBroker(ctx, id_or_file, options);
}

int ExportRecording(CliContext& ctx, const std::string& id, const std::string& out, bool force) {
  constexpr std::string_view kCast = ".cast";
  if (out.size() <= kCast.size() || out.compare(out.size() - kCast.size(), kCast.size(), kCast) != 0) {
    std::cerr << "portcullis: the output file must end in .cast (its seal files go beside it)\n";
    return kExitUsage;
  }
  const recorder::RecordingPaths files = recorder::PathsFor(out);
  struct Sidecar {
    std::string path;
    std::string data;
  } sidecars[] = {{files.manifest, ""}, {files.signature, ""}, {files.seal, ""}};
  if (!force) {
    for (const std::string& p : {out, sidecars[0].path, sidecars[1].path, sidecars[2].path}) {
      if (PathExists(p)) {
        return CliContext::Fail(
            absl::AlreadyExistsError(fmt::format("{} exists (--force overwrites it)", p)));
      }
    }
  }
  int rc = kExitError;
  auto stub = ctx.Stub<v1::RecordingService>(&rc);
  if (!stub) return rc;
  v1::ReadRecordingRequest req;
  req.set_id(id);
  req.set_purpose(v1::READ_PURPOSE_EXPORT);
  auto call = ctx.CallContext();
  call->set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
  auto reader = stub->Read(call.get(), req);
  PartFile cast(out);
  v1::RecordingChunk chunk;
  uint64_t expected_size = 0, written = 0;
  bool first = true;
  absl::Status st;
  while (st.ok() && reader->Read(&chunk)) {
    if (first) {
      first = false;
      expected_size = chunk.file_size();
      sidecars[0].data = chunk.manifest();
      sidecars[1].data = chunk.manifest_sig();
      sidecars[2].data = chunk.seal();
      st = cast.Open();
      if (!st.ok()) break;
    }
    if (chunk.offset() != written) {
      st = absl::DataLossError("the broker sent the recording out of order");
      break;
    }
    st = cast.Write(chunk.data());
    written += chunk.data().size();
  }
  if (!st.ok()) {
    call->TryCancel();
    reader->Finish();
    return CliContext::Fail(st);
  }
  if (grpc::Status gst = reader->Finish(); !gst.ok()) return CliContext::Fail(gst);
  if (first || written != expected_size) {
    return CliContext::Fail(absl::DataLossError(
        fmt::format("incomplete export: {} of {} bytes received", written, expected_size)));
  }
  if (st = cast.Commit(force); !st.ok()) return CliContext::Fail(st);
  for (const auto& s : sidecars) {
    if (s.data.empty()) {
      if (force) ::unlink(s.path.c_str());  // a stale one would mislead a verifier
      continue;
    }
    if (st = WriteFileAtomic(s.path, s.data, 0600, !force); !st.ok()) return CliContext::Fail(st);
  }
  std::cout << "exported " << Shown(id) << " to " << out << " (" << written << " bytes)\n";
  if (!sidecars[0].data.empty()) {
    std::cout << "sealed by " << sidecars[0].path << " + " << sidecars[1].path << "\n";
  } else if (!sidecars[2].data.empty()) {
    std::cout << "not sealed by a manifest (the recording was cut); checkpoints in "
              << sidecars[2].path << "\n";
  } else {
    std::cout << "warning: the broker has no seal for this recording; it cannot be verified\n";
  }
  std::cout << "verify offline: portcullis recordings verify " << out
            << " --key recording.pem   (key: portcullis ca export --recording)\n";
  return kExitOk;
}

namespace {

int ExitFor(v1::Verdict v) {
  switch (v) {
    case v1::VERDICT_VALID: return kExitOk;
    case v1::VERDICT_TRUNCATED: return kExitTruncated;
    default: return kExitDenied;
  }
}

int VerifyFile(const std::string& path, const std::string& key_path) {
  std::string key_file = key_path;
  if (key_file.empty()) {
    const std::string saved = CliContext::RecordingKeyPath();
    if (!PathExists(saved)) {
      std::cerr << "portcullis: no recording key: pass --key FILE (the PEM printed by "
                   "`portcullis ca export --recording`)\n";
      return kExitUsage;
    }
    key_file = saved;
  }
  auto text = ReadFileBounded(key_file, kMaxKeyFileBytes);
  if (!text.ok()) return CliContext::Fail(text.status());
  auto key = recorder::ParseRecordingPublicKey(*text);
  if (!key.ok()) {
    return CliContext::Fail(
        absl::InvalidArgumentError(fmt::format("{}: {}", key_file, key.status().message())));
  }
  recorder::VerifyRequest req;
  if (auto sidecars = recorder::PathsForSidecar(path)) {
    req.manifest_path = sidecars->manifest;  // which names the recording
  } else {
    req.recording_path = path;
  }
  req.public_key_raw = *key;
  recorder::VerifyReport rep = recorder::VerifyRecording(req);
  std::cout << rep.message << "\n";
  switch (rep.verdict) {
    case recorder::Verdict::kValid: return kExitOk;
    case recorder::Verdict::kTruncated: return kExitTruncated;
    case recorder::Verdict::kInvalid: return kExitDenied;
  }
  return kExitDenied;
}

}  // namespace

int VerifyRecordingCommand(CliContext& ctx, const std::string& id_or_file,
                           const std::string& key_path) {
  if (LooksLikeFile(id_or_file)) return VerifyFile(id_or_file, key_path);
  if (!key_path.empty()) {
    std::cerr << "portcullis: --key is for verifying a FILE; a recording ID is verified by the "
                 "broker (export it to check it yourself)\n";
    return kExitUsage;
  }
  int rc = kExitError;
  auto stub = ctx.Stub<v1::RecordingService>(&rc);
  if (!stub) return rc;
  v1::VerifyRecordingRequest req;
  req.set_id(id_or_file);
  v1::VerifyRecordingResponse resp;
  if (!ctx.Rpc([&](auto* c) { return stub->Verify(c, req, &resp); }, &rc)) return rc;
  std::cout << resp.message() << "\n";
  return ExitFor(resp.verdict());
}

}  // namespace portcullis::cli
