#include "recorder/verifier.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "auth/ca/ed25519_key.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "broker/common/openssl_handles.h"
#include "recorder/recording_format.h"

namespace portcullis::recorder {
namespace {

constexpr size_t kReadChunk = 1u << 20;
constexpr size_t kMaxKeyText = 8u << 10;

// Untrusted text for a one-line message: printable ASCII only, bounded.
std::string Clean(std::string_view s, size_t max = 200) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == max) return out + "...";
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

std::string CleanStatus(const absl::Status& st) {
  return Clean(std::string_view(st.message().data(), st.message().size()));
}

// "01:02:03" for a session time.
std::string SessionTime(int64_t micros) {
  if (micros < 0) micros = 0;
  const int64_t s = micros / 1'000'000;
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// A point of the recording that a seal vouches for.
struct SealedPoint {
  uint64_t offset = 0;
  std::string sha256_hex;
  int64_t elapsed_micros = 0;
  std::string label;  // "checkpoint 17", "the manifest"
};

class Verifier {
 public:
  explicit Verifier(const VerifyRequest& req) : req_(req) {}
  ~Verifier() {
    if (fd_ >= 0) ::close(fd_);
  }

  VerifyReport Run() {
    if (auto st = ResolvePaths(); !st.ok()) return Invalid(std::string(st.message()));
    if (req_.public_key_raw.size() != ca::kEd25519PublicSize) {
      return Invalid("the public key is not a 32-byte Ed25519 key");
    }
    key_id_ = RecordingKeyId(req_.public_key_raw);
    // Given the recording, it is opened first; from a manifest, once the
    // manifest's signature says which file it seals.
    if (!paths_.recording.empty()) {
      if (auto st = OpenRecording(); !st.ok()) return Invalid(std::string(st.message()));
    }
    if (IsFile(paths_.manifest)) return VerifyManifest();
    if (IsFile(paths_.seal)) {
      if (paths_.recording.empty()) {
        return Invalid(fmt::format("no manifest ({}): name the recording the seal {} is for",
                                   Clean(paths_.manifest), Clean(paths_.seal)));
      }
      return VerifySeal();
    }
    return Invalid(fmt::format("no manifest ({}) and no seal ({}): nothing proves this recording",
                               Clean(paths_.manifest), Clean(paths_.seal)));
  }

 private:
  VerifyReport Invalid(std::string why) {
    report_.verdict = Verdict::kInvalid;
    report_.message = "INVALID: " + why;
    return std::move(report_);
  }
  VerifyReport Bad(uint64_t begin, uint64_t end, int64_t t0, int64_t t1, std::string why) {
    report_.bad_begin = begin;
    report_.bad_end = end;
    const std::string range = end > begin ? fmt::format("bytes {}-{}", begin, end - 1)
                                          : fmt::format("the bytes before {}", begin);
    return Invalid(fmt::format("{} ({}-{}) {}{}", range, SessionTime(t0), SessionTime(t1), why,
                               OtherRecordingHint()));
  }

  // The files to read: the recording's sidecars, or a sidecar's siblings.
  absl::Status ResolvePaths() {
    if (!req_.recording_path.empty()) {
      paths_ = PathsFor(req_.recording_path);
    } else if (!req_.manifest_path.empty()) {
      if (auto sidecars = PathsForSidecar(req_.manifest_path)) paths_ = *sidecars;
    } else {
      return absl::InvalidArgumentError("no recording and no manifest to verify");
    }
    if (!req_.manifest_path.empty()) paths_.manifest = req_.manifest_path;
    if (!req_.signature_path.empty()) paths_.signature = req_.signature_path;
    if (!req_.seal_path.empty()) paths_.seal = req_.seal_path;
    return absl::OkStatus();
  }

  absl::Status OpenRecording() {
    const std::string& path = paths_.recording;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) {
      return absl::NotFoundError(
          fmt::format("cannot open {}: {}", Clean(path), std::strerror(errno)));
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(fmt::format("{} is not a regular file", Clean(path)));
    }
    report_.file_size = static_cast<uint64_t>(st.st_size);
    if (report_.file_size > req_.max_recording_bytes) {
      return absl::InvalidArgumentError(
          fmt::format("the recording is {} bytes, over the size cap of {} bytes",
                      report_.file_size, req_.max_recording_bytes));
    }
    ctx_.reset(EVP_MD_CTX_new());
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
      return absl::InternalError("SHA-256 is unavailable");
    }
    return absl::OkStatus();
  }

  // For a failure message only (names never decide a verdict): the file is
  // named as another recording ("<session>.<channel>.<ext>") than the one
  // the seal or manifest is for, as when they were put beside the wrong file.
  std::string OtherRecordingHint() const {
    const std::string name = BaseName(paths_.recording);
    const size_t ext = name.rfind('.');
    if (id_.empty() || ext == std::string::npos || !ValidExtension(name.substr(ext + 1))) return "";
    const std::string stem = name.substr(0, ext);
    const size_t dot = stem.find('.');
    if (stem == id_ || dot == std::string::npos || dot + 1 == stem.size() ||
        stem.find_first_not_of("0123456789", dot + 1) != std::string::npos) {
      return "";
    }
    return fmt::format(" (they are sealed as recording {}, the file is named as recording {})",
                       id_, Clean(stem));
  }

  // Hashes the recording up to `offset` (<= file size).
  absl::Status HashTo(uint64_t offset) {
    if (buf_.empty()) buf_.resize(kReadChunk);
    while (hashed_ < offset) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(offset - hashed_, buf_.size()));
      ssize_t n = ::pread(fd_, buf_.data(), want, static_cast<off_t>(hashed_));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::DataLossError(fmt::format("the recording changed or cannot be read at byte {}",
                                               hashed_));
      }
      if (EVP_DigestUpdate(ctx_.get(), buf_.data(), static_cast<size_t>(n)) != 1) {
        return absl::InternalError("SHA-256 failed");
      }
      hashed_ += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  std::string PrefixHex() {
    EvpMdCtxPtr copy(EVP_MD_CTX_new());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1 ||
        EVP_DigestFinal_ex(copy.get(), md, &len) != 1) {
      return "";
    }
    return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
  }

  // Checks the next sealed point; on success it becomes the proven prefix.
  // Returns a report when it fails.
  std::optional<VerifyReport> Check(const SealedPoint& p) {
    const uint64_t from = report_.valid_bytes;
    const int64_t t0 = report_.valid_until_micros;
    if (p.offset < from) {
      return Invalid(fmt::format("{} seals offset {}, before the {} bytes sealed already",
                                 p.label, p.offset, from));
    }
    if (p.offset > report_.file_size) {
      return Bad(from, p.offset, t0, p.elapsed_micros,
                 fmt::format("are missing: the file has {} bytes, {} seals {}",
                             report_.file_size, p.label, p.offset));
    }
    if (auto st = HashTo(p.offset); !st.ok()) return Invalid(std::string(st.message()));
    if (PrefixHex() != p.sha256_hex) {
      return Bad(from, p.offset, t0, p.elapsed_micros, "differ from " + p.label);
    }
    report_.valid_bytes = p.offset;
    report_.valid_until_micros = std::max(t0, p.elapsed_micros);
    return std::nullopt;
  }

  VerifyReport VerifyManifest() {
    auto bytes = ReadFileBounded(paths_.manifest, kMaxManifestBytes);
    if (!bytes.ok()) {
      return Invalid(fmt::format("cannot read the manifest: {}", CleanStatus(bytes.status())));
    }
    if (!IsFile(paths_.signature)) {
      return Invalid(fmt::format("the manifest is not signed: no {}", Clean(paths_.signature)));
    }
    auto sig = ReadFileBounded(paths_.signature, 1024);
    if (!sig.ok() || sig->size() != ca::kEd25519SignatureSize) {
      return Invalid(fmt::format("the manifest signature {} is not a 64-byte Ed25519 signature",
                                 Clean(paths_.signature)));
    }
    if (!ca::VerifyEd25519(req_.public_key_raw, *bytes, *sig).ok()) {
      auto claimed = ParseManifest(*bytes);
      if (claimed.ok() && claimed->key != key_id_) {
        return Invalid(fmt::format("the manifest is signed by another key ({}), not by {}",
                                   claimed->key, key_id_));
      }
      return Invalid(fmt::format(
          "the manifest's signature does not verify with {}: the manifest was edited or signed "
          "by another key", key_id_));
    }
    auto m = ParseManifest(*bytes);
    if (!m.ok()) {
      return Invalid(fmt::format("the signed manifest is malformed: {}",
                                 CleanStatus(m.status())));
    }
    if (m->key != key_id_) {
      return Invalid(fmt::format("the manifest names another key ({}), not {}", m->key, key_id_));
    }
    id_ = m->recording_id;
    report_.recording_id = id_;
    if (paths_.recording.empty()) {
      // The file the manifest seals, beside it.
      const size_t slash = paths_.manifest.rfind('/');
      paths_.recording = (slash == std::string::npos ? std::string()
                                                      : paths_.manifest.substr(0, slash + 1)) +
                         m->recording_file;
      if (auto st = OpenRecording(); !st.ok()) return Invalid(std::string(st.message()));
    }
    report_.manifest = *m;
    for (size_t i = 0; i < m->checkpoints.size(); ++i) {
      const Checkpoint& cp = m->checkpoints[i];
      if (i > 0 && cp.seq <= m->checkpoints[i - 1].seq) {
        return Invalid(fmt::format("the manifest's checkpoints are out of order at seq {}", cp.seq));
      }
      if (cp.offset > m->size) {
        return Invalid(fmt::format("the manifest's checkpoint {} lies beyond its size", cp.seq));
      }
      if (auto bad = Check({cp.offset, cp.sha256_hex, cp.elapsed_micros,
                            fmt::format("checkpoint {}", cp.seq)})) {
        return std::move(*bad);
      }
    }
    if (auto bad = Check({m->size, m->sha256_hex, m->duration_micros, "the manifest"})) {
      return std::move(*bad);
    }
    if (report_.file_size > m->size) {
      return Bad(m->size, report_.file_size, m->duration_micros, m->duration_micros,
                 fmt::format("were added after the sealed end at byte {}", m->size));
    }
    report_.verdict = Verdict::kValid;
    report_.valid_until_micros = m->duration_micros;
    report_.message = fmt::format("VALID: {} bytes, sha256 {}, sealed {}{}", m->size,
                                  m->sha256_hex, m->ended,
                                  m->state == "complete"
                                      ? ""
                                      : fmt::format(" (the recording failed: {})",
                                                    Clean(m->failure)));
    return std::move(report_);
  }

  VerifyReport VerifySeal() {
    int sfd = ::open(paths_.seal.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (sfd < 0) {
      return Invalid(fmt::format("cannot open the seal {}: {}", Clean(paths_.seal),
                                 std::strerror(errno)));
    }
    std::optional<VerifyReport> result = SealLines(sfd);
    ::close(sfd);
    if (result) return std::move(*result);
    if (seq_ == 0) {
      return Invalid(fmt::format("the seal {} holds no checkpoint: nothing proves this recording",
                                 Clean(paths_.seal)));
    }
    report_.verdict = Verdict::kTruncated;
    report_.message = fmt::format(
        "TRUNCATED at {}: the first {} bytes verify (checkpoint {}); {} bytes after it are not "
        "sealed (no manifest: the recording was not closed)",
        SessionTime(report_.valid_until_micros), report_.valid_bytes, seq_ - 1,
        report_.file_size - report_.valid_bytes);
    return std::move(report_);
  }

  // Streams the seal line by line; a report if a line fails.
  std::optional<VerifyReport> SealLines(int sfd) {
    std::string pending;
    std::vector<char> chunk(64u << 10);
    size_t line_no = 0;
    for (;;) {
      ssize_t n = ::read(sfd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Invalid(fmt::format("cannot read the seal: {}", std::strerror(errno)));
      if (n == 0) break;  // a last line without '\n' was cut by a crash: ignored
      pending.append(chunk.data(), static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (auto bad = SealLine(++line_no, std::string_view(pending).substr(start, nl - start))) {
          return bad;
        }
      }
      pending.erase(0, start);
      if (pending.size() > kMaxCheckpointLine) {
        return Invalid(fmt::format("seal line {}: longer than {} bytes", line_no + 1,
                                   kMaxCheckpointLine));
      }
    }
    return std::nullopt;
  }

  std::optional<VerifyReport> SealLine(size_t line_no, std::string_view line) {
    if (line_no > kMaxCheckpoints) {
      return Invalid(fmt::format("the seal has more than {} lines", kMaxCheckpoints));
    }
    auto cp = ParseCheckpointLine(line);
    if (!cp.ok()) {
      return Invalid(fmt::format("seal line {}: {}", line_no, CleanStatus(cp.status())));
    }
    if (line_no == 1) {
      id_ = cp->recording_id;
      report_.recording_id = id_;
    } else if (cp->recording_id != id_) {
      return Invalid(fmt::format(
          "seal line {}: the checkpoint names recording {}, but the seal is for recording {}",
          line_no, cp->recording_id, id_));
    }
    if (cp->seq != seq_) {
      return Invalid(fmt::format(
          "seal line {}: checkpoint {} where {} was expected (lines removed, repeated or "
          "reordered)", line_no, cp->seq, seq_));
    }
    const std::string_view payload = line.substr(0, line.rfind(' '));
    if (!ca::VerifyEd25519(req_.public_key_raw, payload, cp->signature).ok()) {
      return Invalid(fmt::format(
          "seal line {}: the signature of checkpoint {} does not verify with {}: the line was "
          "edited or signed by another key", line_no, cp->seq, key_id_));
    }
    if (auto bad = Check({cp->offset, cp->sha256_hex, cp->elapsed_micros,
                          fmt::format("checkpoint {}", cp->seq)})) {
      return bad;
    }
    ++seq_;
    return std::nullopt;
  }

  const VerifyRequest& req_;
  RecordingPaths paths_;
  std::string key_id_;
  std::string id_;  // from the manifest, or the seal's first line
  int fd_ = -1;
  EvpMdCtxPtr ctx_;
  uint64_t hashed_ = 0;
  std::string buf_;
  uint64_t seq_ = 0;  // the next expected checkpoint seq in the seal
  VerifyReport report_;
};

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "VALID";
    case Verdict::kTruncated: return "TRUNCATED";
    case Verdict::kInvalid: return "INVALID";
  }
  return "INVALID";
}

VerifyReport VerifyRecording(const VerifyRequest& req) {
  try {
    return Verifier(req).Run();
  } catch (const std::exception&) {
    // Only allocation failure can get here; still a verdict, not a crash.
    VerifyReport r;
    r.message = "INVALID: out of memory while verifying";
    return r;
  }
}

absl::StatusOr<std::string> ParseRecordingPublicKey(std::string_view text) {
  if (text.size() == ca::kEd25519PublicSize && text.substr(0, 5) != "-----" &&
      text.substr(0, 4) != "ssh-") {
    return std::string(text);
  }
  if (text.size() > kMaxKeyText) return absl::InvalidArgumentError("public key: too long");
  std::string_view t = text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\n' || t.front() == '\r')) {
    t.remove_prefix(1);
  }
  if (t.substr(0, 26) == "-----BEGIN PUBLIC KEY-----") {
    BioPtr bio(BIO_new_mem_buf(t.data(), static_cast<int>(t.size())));
    if (!bio) return absl::InternalError("public key: out of memory");
    EvpPkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!pkey) return absl::InvalidArgumentError("public key: not a valid PEM public key");
    if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
      return absl::InvalidArgumentError("public key: not an Ed25519 key");
    }
    std::string raw(ca::kEd25519PublicSize, '\0');
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                    &len) != 1 ||
        len != raw.size()) {
      return absl::InvalidArgumentError("public key: not an Ed25519 key");
    }
    return raw;
  }
  if (t.substr(0, 12) == "ssh-ed25519 ") {
    auto key = ca::ParsePublicKeyLine(t);
    if (!key.ok()) return absl::InvalidArgumentError("public key: bad ssh-ed25519 line");
    return ca::Ed25519RawFromBlob(key->blob);
  }
  return absl::InvalidArgumentError(
      "public key: expected a PEM PUBLIC KEY, an ssh-ed25519 line or 32 raw bytes");
}

std::string RecordingPublicKeyPem(std::string_view public_raw) {
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_raw.data()),
      public_raw.size()));
  if (!pkey) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) return "";
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

}  // namespace portcullis::recorder
