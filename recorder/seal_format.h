#pragma once
// The seal of a recording (docs/recordings.md, "Sealing"): the text of
// checkpoint lines and manifests, and their bounded parsers. Pure functions,
// thread-safe. The parsers take untrusted bytes (a reviewer verifies files
// from anywhere): every field is checked, sizes are capped, and any
// malformation is an InvalidArgument naming the line or field.
//
// Files of one recording, all in one directory, named by its id
// "<session_id>.<channel>", whatever its format:
//   <id>.<ext>          the recording, in the format its manifest names by
//                       media type (".cast": asciicast v2; recording_format.h)
//   <id>.seal           checkpoint lines, appended while it is written;
//                       removed once the manifest is in place
//   <id>.manifest.json  the manifest, written when the recording ends
//   <id>.manifest.sig   raw 64-byte Ed25519 signature of the manifest file
// Nothing here reads the recording's bytes: only their size and SHA-256.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/common/json_depth.h"  // JsonNestingWithin, used with the parsers

namespace portcullis::recorder {

inline constexpr std::string_view kCheckpointMagic = "portcullis-checkpoint/1";
inline constexpr std::string_view kManifestFormat = "portcullis-recording-manifest/1";
// A manifest file starts with exactly these bytes (the signer checks it).
inline constexpr std::string_view kManifestPrefix =
    "{\n  \"format\": \"portcullis-recording-manifest/1\"";
inline constexpr size_t kMaxCheckpointLine = 512;
inline constexpr size_t kMaxManifestBytes = 4u << 20;
inline constexpr size_t kMaxCheckpoints = 1u << 20;
// A manifest lists at most this many checkpoints (about 1 MiB of JSON): a
// writer thins its list (keeps every 2nd, then every 4th, ... seq) beyond
// it. The seal file keeps them all; the manifest's size and sha256 seal the
// whole file either way.
inline constexpr size_t kMaxManifestCheckpoints = 4096;
inline constexpr size_t kMaxRecordingIdLength = 80;

// The files of the recording at `recording_path` ("<dir>/<id>.<ext>"): the
// sidecars replace the extension (the part of the file name after its last
// '.', if ValidExtension(); otherwise they are appended to the whole name).
struct RecordingPaths {
  std::string recording, seal, manifest, signature;
};
RecordingPaths PathsFor(std::string_view recording_path);
// If `path` names a sidecar ("<stem>.manifest.json", "<stem>.manifest.sig"
// or "<stem>.seal"), the files of its recording, with `recording` empty
// (the manifest's "recording_file" names it); otherwise nullopt.
std::optional<RecordingPaths> PathsForSidecar(std::string_view path);

// [A-Za-z0-9_.-]{1,80}, not "." or "..".
bool ValidRecordingId(std::string_view id);
// True iff `payload` may be signed by a RecordingSigner: it starts with
// "portcullis-checkpoint/1 " or with kManifestPrefix.
bool IsSealPayload(std::string_view payload);
// "12.345678": seconds with six decimals (negative values count as 0).
std::string FormatElapsed(int64_t micros);

// One signed checkpoint: the first `offset` bytes of the recording hash to
// `sha256_hex`; the last event in them is at `elapsed_micros`.
//
// Line: "portcullis-checkpoint/1 ID SEQ OFFSET ELAPSED SHA256 UTC SIG\n"
//   ID       recording id, [A-Za-z0-9_.-]{1,80}
//   SEQ      0, 1, 2 ... (consecutive)
//   OFFSET   decimal byte count
//   ELAPSED  seconds since the recording's start, six decimals ("12.345678")
//   SHA256   64 lowercase hex digits
//   UTC      wall time of sealing, "2026-11-22T10:00:05.123456Z"
//   SIG      base64 of the Ed25519 signature of the line up to (not
//            including) the space before SIG
struct Checkpoint {
  std::string recording_id;
  uint64_t seq = 0;
  uint64_t offset = 0;
  int64_t elapsed_micros = 0;
  std::string sha256_hex;
  std::string utc;        // as in the line
  std::string signature;  // raw 64 bytes
};

// The signed part of a checkpoint line (no SIG, no newline).
std::string CheckpointPayload(const Checkpoint& cp);
// The whole line, with the signature and '\n'.
std::string CheckpointLine(const Checkpoint& cp);
// Parses one line (with or without its '\n'). Checks syntax only; the
// signature is checked by the verifier.
[[nodiscard]] absl::StatusOr<Checkpoint> ParseCheckpointLine(std::string_view line);

struct Manifest {
  std::string recording_id;
  std::string recording_file;  // "<id>.<ext>", ValidExtension(ext), in the manifest's directory
  std::string media_type;      // ValidMediaType(), e.g. "application/x-asciicast"
  std::string session_id;
  int channel = 0;
  std::string protocol, user, login, target, target_address, source, command;
  std::vector<std::string> roles;
  std::string rule;
  std::vector<std::string> approvals;
  uint64_t certificate_serial = 0;
  bool record_input = false;
  std::string started, ended;  // UTC, "2026-11-22T10:00:00.000000Z"
  int64_t duration_micros = 0;
  std::string end_reason;
  std::string state;    // "complete" | "failed"
  std::string failure;  // "" unless failed
  uint64_t size = 0;
  std::string sha256_hex;
  std::vector<Checkpoint> checkpoints;  // signature field empty here
  std::string key;  // "ed25519:" + hex of the raw public key's SHA-256
};

// The manifest file's exact bytes (pretty JSON, keys in a fixed order,
// starting with kManifestPrefix, ending with "}\n").
std::string ManifestJson(const Manifest& m);
// Parses a manifest file (at most kMaxManifestBytes); unknown or missing
// keys, wrong types and bad values are errors.
[[nodiscard]] absl::StatusOr<Manifest> ParseManifest(std::string_view bytes);

// "ed25519:<hex sha256 of the raw 32-byte key>", the manifest's "key".
std::string RecordingKeyId(std::string_view public_raw);

}  // namespace portcullis::recorder
