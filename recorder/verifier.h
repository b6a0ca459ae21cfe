#pragma once
// Offline verification of a sealed recording of any format
// (docs/recordings.md). Needs only the files and the recording public key;
// no broker, no database. It starts from the manifest or the seal and never
// parses the recording: only its size and SHA-256 count. Thread-safe (no
// shared state). Reads the recording once, streaming, in bounded memory.
//
// Verdicts:
//   VALID      a manifest signed by the key seals the whole file: size and
//              SHA-256 match, every checkpoint in it matches.
//   TRUNCATED  no manifest (the writer was killed), but the signed
//              checkpoints in <id>.seal verify; the file's first
//              `valid_bytes` bytes (up to `valid_until_micros` into the
//              session) are proven, anything after them is not.
//   INVALID    anything else: a bad or foreign signature, checkpoints
//              naming different recordings, a byte that differs from what
//              was sealed (bad_begin..bad_end is the first range that
//              fails), a file shorter or longer than sealed, no seal at all,
//              a file over the size cap, or garbage.

#include <cstdint>
#include <optional>
#include <string>

#include "recorder/seal_format.h"

namespace portcullis::recorder {

enum class Verdict { kValid, kTruncated, kInvalid };
const char* VerdictName(Verdict v);  // "VALID", "TRUNCATED", "INVALID"

struct VerifyRequest {
  // The recording, "<id>.<ext>". Empty: the file the manifest's
  // "recording_file" names, in the manifest's directory (manifest_path is
  // required then).
  std::string recording_path;
  // Sidecars; empty = derived from recording_path (PathsFor) or from
  // manifest_path (PathsForSidecar). Missing files are allowed (that
  // decides the verdict), unreadable ones are INVALID.
  std::string manifest_path, signature_path, seal_path;
  std::string public_key_raw;  // 32 bytes
  uint64_t max_recording_bytes = uint64_t{16} << 30;
};

struct VerifyReport {
  Verdict verdict = Verdict::kInvalid;
  // One line for people, e.g.
  //  "VALID: 1234567 bytes, sha256 ab12..., sealed 2026-11-22T10:05:00.000000Z"
  //  "TRUNCATED at 00:01:23: the first 40960 bytes verify (checkpoint 17); 512 bytes after it are not sealed"
  //  "INVALID: bytes 40960-81919 (00:01:23-00:01:28) differ from checkpoint 18"
  std::string message;
  std::string recording_id;  // as the manifest or the seal names it; "" if neither was read
  uint64_t file_size = 0;
  uint64_t valid_bytes = 0;         // proven prefix
  int64_t valid_until_micros = 0;   // session time the proven prefix reaches
  // kInvalid with a known range: the first bad byte range [bad_begin, bad_end).
  std::optional<uint64_t> bad_begin, bad_end;
  std::optional<Manifest> manifest;  // when one was read and its signature verified
};

// Never fails: every problem is an INVALID report with its reason.
VerifyReport VerifyRecording(const VerifyRequest& req);

// Reads a public key for verification: a PEM "PUBLIC KEY" (what
// `portcullis ca export --recording` prints), an "ssh-ed25519 AAAA..." line,
// or 32 raw bytes. Returns the raw 32-byte key.
[[nodiscard]] absl::StatusOr<std::string> ParseRecordingPublicKey(std::string_view text);
// The PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of a raw Ed25519 key, as
// `openssl pkeyutl -pubin -inkey` reads it.
std::string RecordingPublicKeyPem(std::string_view public_raw);

}  // namespace portcullis::recorder
