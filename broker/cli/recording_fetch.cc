#include "broker/cli/recording_fetch.h"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "broker/common/encoding.h"
#include "broker/common/openssl_handles.h"
#include "portcullis/v1/recordings.grpc.pb.h"

namespace portcullis::cli {
namespace {

constexpr auto kStreamDeadline = std::chrono::hours(24);

int AnonymousFile() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string templ = dir + "/portcullis-export-XXXXXX";
  fd = ::mkostemp(templ.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(templ.c_str());
  return fd;
}

}  // namespace

absl::StatusOr<FetchedRecording> FetchRecording(
    CliContext& ctx, const std::string& id,
    const std::function<absl::Status(const v1::Recording&)>& accept,
    const std::function<bool(double)>& progress, bool check_sha256, int* rc) {
  auto stub = ctx.Stub<v1::RecordingService>(rc);
  if (!stub) return absl::CancelledError("");  // already reported, *rc set
  v1::ReadRecordingRequest req;
  req.set_id(id);
  req.set_purpose(v1::READ_PURPOSE_EXPORT);
  auto call = ctx.CallContext();
  call->set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
  auto reader = stub->Read(call.get(), req);
  FetchedRecording f;
  f.fd = AnonymousFile();
  if (f.fd < 0) {
    call->TryCancel();
    reader->Finish();
    return absl::UnavailableError(fmt::format("cannot create a temporary file: {}", std::strerror(errno)));
  }
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    ::close(f.fd);
    return absl::InternalError("SHA-256 unavailable");
  }
  v1::RecordingChunk chunk;
  uint64_t expected = 0, written = 0;
  bool first = true;
  absl::Status st;
  while (st.ok() && reader->Read(&chunk)) {
    if (first) {
      first = false;
      f.recording = chunk.recording();
      expected = chunk.file_size();
      if (accept) {
        st = accept(f.recording);
        if (!st.ok()) break;
      }
    }
    if (chunk.offset() != written) {
      st = absl::DataLossError("the broker sent the recording out of order");
      break;
    }
    std::string_view data = chunk.data();
    EVP_DigestUpdate(md.get(), data.data(), data.size());
    while (!data.empty()) {
      ssize_t n = ::write(f.fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        st = absl::UnavailableError(fmt::format("cannot write a temporary file: {}", std::strerror(errno)));
        break;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    written += chunk.data().size();
    if (progress &&
        !progress(expected > 0 ? static_cast<double>(written) / static_cast<double>(expected) : -1.0)) {
      st = absl::CancelledError("cancelled");
    }
  }
  if (!st.ok()) {
    call->TryCancel();
    reader->Finish();
    ::close(f.fd);
    return st;
  }
  if (grpc::Status gst = reader->Finish(); !gst.ok()) {
    ::close(f.fd);
    *rc = CliContext::Fail(gst);
    return absl::CancelledError("");
  }
  if (first || written != expected) {
    ::close(f.fd);
    return absl::DataLossError(fmt::format("incomplete recording: {} of {} bytes received", written, expected));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  const std::string hex = HexEncode(std::string_view(reinterpret_cast<char*>(digest), len));
  if (check_sha256 && f.recording.state() == "complete" && !f.recording.sha256().empty() &&
      f.recording.sha256() != hex) {
    ::close(f.fd);
    return absl::DataLossError("the recording received does not match its sealed SHA-256");
  }
  if (f.recording.sha256().empty()) f.recording.set_sha256(hex);
  return f;
}

}  // namespace portcullis::cli
