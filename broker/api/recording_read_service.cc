// RecordingService.Read (replay and export, streamed) and Search. Both
// reveal what a session showed, so each is audited before anything is sent.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/api/api_common.h"
#include "broker/api/recording_access.h"
#include "broker/api/services.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "recorder/cast_search.h"
#include "recorder/seal_format.h"

namespace portcullis::api {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
// A long stream checks again, every this many chunks (4 MiB), that its
// caller's token is still valid: a revoked or expired login stops it.
constexpr int kReauthorizeChunks = 64;
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxSignatureBytes = 1024;
constexpr size_t kMaxSealBytes = 48u << 20;  // fits one gRPC message to the CLI (64 MiB)
constexpr size_t kMaxNeedleBytes = 256;
constexpr size_t kMaxAuditedIds = 500;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads up to `n` bytes at `offset` (fewer only at end of file).
absl::StatusOr<std::string> ReadAt(int fd, uint64_t offset, size_t n) {
  std::string buf(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(fmt::format("reading the recording: {}", std::strerror(errno)));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

// A sidecar file's bytes, "" if it does not exist.
absl::StatusOr<std::string> ReadSidecar(const std::string& path, size_t max) {
  auto text = ReadFileBounded(path, max);
  if (absl::IsNotFound(text.status())) return std::string();
  return text;
}

// The offset to replay from for `from_micros`: the last signed checkpoint
// at or before it (from the manifest, else the seal file) that falls on a
// line boundary after the header; `header_end` when there is none.
uint64_t SeekOffset(int fd, const core::RecordingFiles& files, int64_t from_micros,
                    uint64_t header_end, uint64_t file_size) {
  std::vector<recorder::Checkpoint> cps;
  if (auto m = ReadSidecar(files.manifest, recorder::kMaxManifestBytes); m.ok() && !m->empty()) {
    if (auto parsed = recorder::ParseManifest(*m); parsed.ok()) cps = parsed->checkpoints;
  }
  if (cps.empty()) {
    if (auto seal = ReadSidecar(files.seal, kMaxSealBytes); seal.ok()) {
      size_t pos = 0;
      while (pos < seal->size()) {
        size_t nl = seal->find('\n', pos);
        if (nl == std::string::npos) break;  // a torn last line
        auto cp = recorder::ParseCheckpointLine(std::string_view(*seal).substr(pos, nl - pos));
        if (!cp.ok()) break;
        cps.push_back(*cp);
        pos = nl + 1;
      }
    }
  }
  uint64_t best = header_end;
  int64_t best_micros = -1;
  for (const auto& cp : cps) {
    if (cp.elapsed_micros > from_micros || cp.elapsed_micros < best_micros) continue;
    if (cp.offset < header_end || cp.offset > file_size) continue;
    auto before = ReadAt(fd, cp.offset - 1, 1);
    if (!before.ok() || *before != "\n") continue;
    best = cp.offset;
    best_micros = cp.elapsed_micros;
  }
  return best;
}

}  // namespace

grpc::Status RecordingServiceImpl::Read(grpc::ServerContext* ctx,
                                        const v1::ReadRecordingRequest* req,
                                        grpc::ServerWriter<v1::RecordingChunk>* writer) {
  auto caller = Authorize(ctx, b_, Access::kAnyUser);
  if (!caller.ok()) return ToGrpc(caller.status());
  const bool exporting = req->purpose() == v1::READ_PURPOSE_EXPORT;
  if (!exporting && req->purpose() != v1::READ_PURPOSE_PLAY)
    return ToGrpc(absl::InvalidArgumentError("purpose must be play or export"));
  if (exporting && !IsReviewer(caller->identity))
    return ToGrpc(absl::PermissionDeniedError("exporting recordings needs the auditor or admin role"));
  if (req->from_micros() < 0 || (exporting && req->from_micros() != 0))
    return ToGrpc(absl::InvalidArgumentError("from is for replay only, and not negative"));
  auto r = VisibleRecording(b_, *caller, req->id());
  if (!r.ok()) return ToGrpc(r.status());

  const std::string path = b_.recording_catalogue().AbsolutePath(*r);
  const core::RecordingFiles files = core::FilesOf(path);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    return ToGrpc(absl::NotFoundError(
        fmt::format("the file of recording {} is missing or unreadable: {}", r->id,
                    std::strerror(errno))));
  }
  struct stat sb {};
  if (::fstat(fd.get(), &sb) != 0 || !S_ISREG(sb.st_mode))
    return ToGrpc(absl::DataLossError(fmt::format("{} is not a regular file", path)));
  const uint64_t file_size = static_cast<uint64_t>(sb.st_size);
  auto head = ReadAt(fd.get(), 0, std::min<uint64_t>(kMaxHeaderBytes, file_size));
  if (!head.ok()) return ToGrpc(head.status());
  size_t nl = head->find('\n');
  if (nl == std::string::npos)
    return ToGrpc(absl::DataLossError(fmt::format("recording {} has no header line", r->id)));

  v1::RecordingChunk first;
  FillRecording(*r, first.mutable_recording());
  first.set_header_line(head->substr(0, nl + 1));
  first.set_file_size(file_size);
  uint64_t offset = 0;
  if (exporting) {
    struct {
      const std::string& path;
      size_t max;
      std::string* out;
    } sidecars[] = {{files.manifest, recorder::kMaxManifestBytes, first.mutable_manifest()},
                    {files.signature, kMaxSignatureBytes, first.mutable_manifest_sig()},
                    {files.seal, kMaxSealBytes, first.mutable_seal()}};
    for (auto& s : sidecars) {
      auto bytes = ReadSidecar(s.path, s.max);
      if (!bytes.ok()) return ToGrpc(bytes.status());
      *s.out = std::move(*bytes);
    }
  } else {
    offset = req->from_micros() > 0
                 ? SeekOffset(fd.get(), files, req->from_micros(), nl + 1, file_size)
                 : nl + 1;
  }
  // No audit, no replay.
  if (auto st = AuditChange(b_, *caller, exporting ? "recording.export" : "recording.play", r->id,
                            {{"user", r->user},
                             {"target", r->target},
                             {"from_micros", req->from_micros()},
                             {"offset", offset},
                             {"size", file_size}});
      !st.ok()) {
    return ToGrpc(st);
  }
  v1::RecordingChunk* chunk = &first;
  v1::RecordingChunk next;
  for (int sent = 0;; ++sent) {
    if (sent > 0 && sent % kReauthorizeChunks == 0) {
      if (auto again = Authorize(ctx, b_, Access::kAnyUser); !again.ok()) {
        return ToGrpc(again.status());
      }
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, file_size - offset));
    auto data = ReadAt(fd.get(), offset, n);
    if (!data.ok()) return ToGrpc(data.status());
    chunk->set_offset(offset);
    chunk->set_data(std::move(*data));
    offset += chunk->data().size();
    if (!writer->Write(*chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    if (offset >= file_size || chunk->data().empty()) break;
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    next.Clear();
    chunk = &next;
  }
  return grpc::Status::OK;
}

grpc::Status RecordingServiceImpl::Search(grpc::ServerContext* ctx,
                                          const v1::SearchRecordingsRequest* req,
                                          grpc::ServerWriter<v1::RecordingSearchHit>* writer) {
  auto caller = Authorize(ctx, b_, Access::kReviewer);
  if (!caller.ok()) return ToGrpc(caller.status());
  const std::string& needle = req->needle();
  if (needle.empty() || needle.size() > kMaxNeedleBytes)
    return ToGrpc(absl::InvalidArgumentError("the search text must be 1-256 bytes"));
  if (req->max_hits() < 0 || req->max_hits() > 10000)
    return ToGrpc(absl::InvalidArgumentError("max_hits must be 0-10000"));
  const size_t max_hits = req->max_hits() == 0 ? 1000 : static_cast<size_t>(req->max_hits());
  auto filter = FilterFor(*caller, req->filter(), 10000);
  if (!filter.ok()) return ToGrpc(filter.status());
  auto rows = b_.recording_store().List(*filter);
  if (!rows.ok()) return ToGrpc(rows.status());

  // Hits are gathered first so that the audit event names the recordings
  // they come from before any of them is shown.
  std::vector<v1::RecordingSearchHit> hits;
  std::vector<std::string> matched;
  int scanned = 0, unreadable = 0;
  for (auto it = rows->rbegin(); it != rows->rend() && hits.size() < max_hits; ++it) {
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    const store::RecordingRecord& r = *it;
    ++scanned;
    const size_t before = hits.size();
    absl::Status st = recorder::SearchRecording(
        b_.recording_catalogue().AbsolutePath(r), needle,
        [&](const recorder::SearchHit& h) {
          v1::RecordingSearchHit out;
          out.set_recording_id(r.id);
          out.set_user(r.user);
          out.set_login(r.login);
          out.set_target(r.target);
          out.set_micros(h.micros);
          out.set_stream(std::string(1, h.stream));
          out.set_context(h.context);
          hits.push_back(std::move(out));
        },
        max_hits - hits.size());
    if (!st.ok()) {
      ++unreadable;
      spdlog::warn("search: {}: {}", r.id, st.message());
    }
    if (hits.size() > before) matched.push_back(r.id);
  }
  nlohmann::json details = {{"needle", needle},
                            {"scanned", scanned},
                            {"hits", hits.size()},
                            {"unreadable", unreadable}};
  if (filter->user && IsReviewer(caller->identity)) details["user"] = *filter->user;
  if (filter->target) details["target"] = *filter->target;
  if (filter->since_us) details["since"] = UtcOfMicros(*filter->since_us);
  if (matched.size() > kMaxAuditedIds) {
    details["recordings_omitted"] = matched.size() - kMaxAuditedIds;
    matched.resize(kMaxAuditedIds);
  }
  details["recordings"] = matched;
  if (auto st = AuditChange(b_, *caller, "recording.search", "recordings", std::move(details));
      !st.ok()) {
    return ToGrpc(st);
  }
  for (const auto& h : hits) {
    if (!writer->Write(h)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  return grpc::Status::OK;
}

}  // namespace portcullis::api
