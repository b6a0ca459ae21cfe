#include "recorder/manifest_writer.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/ca/ed25519_key.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "broker/common/time_format.h"
#include "recorder/file_io.h"

namespace portcullis::recorder {
namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

session::RecordingEnd EndOf(const ClosedRecording& rec) {
  session::RecordingEnd end;
  end.recording_id = rec.info.RecordingId();
  end.end_reason = rec.end_reason;
  end.ended = rec.ended;
  end.state = rec.status.ok() ? "complete" : "failed";
  end.failure = rec.status.ok() ? "" : std::string(rec.status.message());
  return end;
}

// What the seal alone proves: the last signed checkpoint.
void FromLastCheckpoint(const SealSummary& s, session::RecordingEnd* end) {
  if (s.checkpoints.empty()) return;
  end->size = s.checkpoints.back().offset;
  end->sha256_hex = s.checkpoints.back().sha256_hex;
}

absl::Status Sealing(const std::string& path, std::string_view what, const absl::Status& st) {
  return absl::Status(st.code(), fmt::format("recording: cannot {} of {}: {}", what, path,
                                             st.message()));
}

}  // namespace

Manifest BuildManifest(const ClosedRecording& rec, std::string_view public_raw) {
  const session::RecordingInfo& info = rec.info;
  Manifest m;
  m.recording_id = info.RecordingId();
  m.recording_file = BaseName(rec.path);
  m.media_type = rec.media_type;
  m.session_id = info.session_id;
  m.channel = info.channel;
  m.protocol = info.protocol;
  m.user = info.user;
  m.login = info.login;
  m.target = info.target;
  m.target_address = info.target_address;
  m.source = info.source;
  m.command = info.command;
  m.roles = info.roles;
  m.rule = info.rule;
  m.approvals = info.approvals;
  m.certificate_serial = info.certificate_serial;
  m.record_input = info.record_input;
  m.started = FormatUtc(rec.started, /*micros=*/true);
  m.ended = FormatUtc(rec.ended, /*micros=*/true);
  m.duration_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(rec.ended - rec.started).count();
  if (m.duration_micros < 0) m.duration_micros = 0;
  m.end_reason = rec.end_reason;
  m.state = rec.status.ok() ? "complete" : "failed";
  m.failure = rec.status.ok() ? "" : std::string(rec.status.message());
  m.size = rec.summary.size;
  m.sha256_hex = rec.summary.sha256_hex;
  m.checkpoints = rec.summary.checkpoints;
  m.key = RecordingKeyId(public_raw);
  return m;
}

session::RecordingEnd UnsealedEnd(const ClosedRecording& rec) {
  session::RecordingEnd end = EndOf(rec);
  FromLastCheckpoint(rec.summary, &end);
  return end;
}

absl::Status WriteManifest(const ClosedRecording& rec, session::RecordingSigner* signer,
                           session::RecordingEnd* end) {
  *end = EndOf(rec);
  FromLastCheckpoint(rec.summary, end);
  const RecordingPaths paths = PathsFor(rec.path);
  absl::Status st;
  if (signer == nullptr) {
    st = absl::FailedPreconditionError("no recording signer");
  } else if (rec.summary.sha256_hex.empty()) {
    st = absl::InternalError("the recording's hash is unknown");
  }
  if (!st.ok()) {
    st = Sealing(rec.path, "write the manifest", st);
  } else {
    const std::string json = ManifestJson(BuildManifest(rec, signer->RecordingPublicKey()));
    auto sig = signer->SignRecordingSeal(json);
    if (!sig.ok()) {
      st = Sealing(rec.path, "sign the manifest", sig.status());
    } else if (sig->size() != ca::kEd25519SignatureSize) {
      st = absl::InternalError(
          fmt::format("recording: the signer returned a bad signature for {}", rec.path));
    } else if (auto w = WriteFileAtomic(paths.signature, *sig, 0600); !w.ok()) {
      st = Sealing(rec.path, "write the manifest signature", w);
    } else if (auto m = WriteFileAtomic(paths.manifest, json, 0600); !m.ok()) {
      ::unlink(paths.signature.c_str());  // best effort: no signature without its manifest
      st = Sealing(rec.path, "write the manifest", m);
    } else {
      st = SyncParentDirectory(paths.manifest);
    }
  }
  if (!st.ok()) {
    end->state = "failed";
    if (end->failure.empty()) end->failure = std::string(st.message());
    return st;
  }
  // The manifest supersedes the checkpoints. A seal left behind is harmless
  // (verifiers use the manifest when there is one).
  if (::unlink(paths.seal.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("{}", FileError(errno, paths.seal, "remove").message());
  }
  end->size = rec.summary.size;
  end->sha256_hex = rec.summary.sha256_hex;
  return absl::OkStatus();
}

}  // namespace portcullis::recorder
