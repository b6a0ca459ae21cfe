#include "recorder/seal_format.h"

#include <iterator>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/common/absl_fmt.h"
#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"
#include "broker/common/time_format.h"
#include "recorder/recording_format.h"

namespace portcullis::recorder {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSealExt = ".seal";
constexpr std::string_view kManifestExt = ".manifest.json";
constexpr std::string_view kSignatureExt = ".manifest.sig";
constexpr size_t kMaxMediaType = 127;constexpr size_t kMaxSessionIdLength = 64;
constexpr size_t kMaxField = 64u << 10;  // one string field of a manifest
constexpr size_t kMaxListEntries = 1024;  // roles, approvals
constexpr int kMaxManifestDepth = 4;
constexpr size_t kUtcLength = 27;  // "2026-11-22T10:00:05.123456Z"
constexpr size_t kSha256HexLength = 64;
constexpr size_t kSignatureBase64Length = 88;  // 64 bytes

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsLowerHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

// Canonical decimal: no sign, no leading zero (except "0"), fits uint64.
bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// "SECONDS.MICROS" with exactly six decimals, as FormatElapsed writes it.
bool ParseElapsed(std::string_view s, int64_t* micros) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos || s.size() - dot != 7) return false;
  uint64_t secs = 0, frac = 0;
  if (!ParseDecimal(s.substr(0, dot), &secs) || secs > 9'000'000'000'000ull) return false;
  std::string_view f = s.substr(dot + 1);
  for (char c : f) {
    if (!IsDigit(c)) return false;
    frac = frac * 10 + static_cast<uint64_t>(c - '0');
  }
  *micros = static_cast<int64_t>(secs * 1'000'000 + frac);
  return true;
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ", and a real instant.
bool ValidUtc(std::string_view s) {
  if (s.size() != kUtcLength) return false;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !IsDigit(s[i]) : s[i] != kShape[i]) return false;
  }
  return ParseUtc(s).ok();
}

// 1..max characters of [A-Za-z0-9_-], plus '.' if `dots`.
bool ValidName(std::string_view s, size_t max, bool dots) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          c == '-' || (dots && c == '.'))) {
      return false;
    }
  }
  return true;
}

bool ValidSessionId(std::string_view id) { return ValidName(id, kMaxSessionIdLength, false); }

// ------------------------------------------------------------ manifest JSON

// Reads the members of one JSON object, each exactly once; leftovers are
// unknown keys. Never throws.
class ObjectReader {
 public:
  ObjectReader(const Json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  absl::Status String(const char* key, std::string* out, size_t max = kMaxField) {
    const Json* v = Take(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_string()) return Type(key, "a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max) return Bad(fmt::format("{}: \"{}\" is too long", where_, key));
    *out = s;
    return absl::OkStatus();
  }
  absl::Status Unsigned(const char* key, uint64_t* out) {
    const Json* v = Take(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_number_unsigned()) return Type(key, "a non-negative integer");
    *out = v->get<uint64_t>();
    return absl::OkStatus();
  }
  absl::Status Signed(const char* key, int64_t* out, int64_t max) {
    uint64_t u = 0;
    PC_RETURN_IF_ERROR(Unsigned(key, &u));
    if (u > static_cast<uint64_t>(max)) {
      return Bad(fmt::format("{}: \"{}\" is out of range", where_, key));
    }
    *out = static_cast<int64_t>(u);
    return absl::OkStatus();
  }
  absl::Status Bool(const char* key, bool* out) {
    const Json* v = Take(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_boolean()) return Type(key, "true or false");
    *out = v->get<bool>();
    return absl::OkStatus();
  }
  absl::Status Strings(const char* key, std::vector<std::string>* out) {
    const Json* v = Take(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_array() || v->size() > kMaxListEntries) {
      return Type(key, fmt::format("an array of at most {} strings", kMaxListEntries));
    }
    out->clear();
    for (const Json& e : *v) {
      if (!e.is_string() || e.get_ref<const std::string&>().size() > kMaxField) {
        return Type(key, "an array of strings");
      }
      out->push_back(e.get<std::string>());
    }
    return absl::OkStatus();
  }
  const Json* Array(const char* key, absl::Status* st) {
    const Json* v = Take(key);
    if (v == nullptr) {
      *st = Missing(key);
    } else if (!v->is_array()) {
      *st = Type(key, "an array");
      v = nullptr;
    }
    return v;
  }
  // Fails if the object had keys nobody took.
  absl::Status Done() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (taken_.count(it.key()) == 0) {
        return Bad(fmt::format("{}: unknown key \"{}\"", where_, Printable(it.key())));
      }
    }
    return absl::OkStatus();
  }
  const std::string& where() const { return where_; }

 private:
  const Json* Take(const char* key) {
    auto it = obj_.find(key);
    if (it == obj_.end()) return nullptr;
    taken_.insert(key);
    return &*it;
  }
  absl::Status Missing(const char* key) const {
    return Bad(fmt::format("{}: missing \"{}\"", where_, key));
  }
  absl::Status Type(const char* key, std::string_view want) const {
    return Bad(fmt::format("{}: \"{}\" must be {}", where_, key, want));
  }
  static std::string Printable(const std::string& s) {
    std::string out;
    for (char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
  }

  const Json& obj_;
  std::string where_;
  std::set<std::string> taken_;
};

absl::Status ReadCheckpoint(const Json& j, size_t index, const std::string& id, Checkpoint* cp) {
  const std::string where = fmt::format("manifest: checkpoints[{}]", index);
  if (!j.is_object()) return Bad(where + " must be an object");
  ObjectReader r(j, where);
  cp->recording_id = id;
  PC_RETURN_IF_ERROR(r.Unsigned("seq", &cp->seq));
  PC_RETURN_IF_ERROR(r.Unsigned("offset", &cp->offset));
  PC_RETURN_IF_ERROR(r.Signed("elapsed_micros", &cp->elapsed_micros, INT64_MAX));
  PC_RETURN_IF_ERROR(r.String("sha256", &cp->sha256_hex, kSha256HexLength));
  PC_RETURN_IF_ERROR(r.String("utc", &cp->utc, kUtcLength));
  PC_RETURN_IF_ERROR(r.Done());
  if (!IsLowerHex(cp->sha256_hex, kSha256HexLength)) return Bad(where + ": bad \"sha256\"");
  if (!ValidUtc(cp->utc)) return Bad(where + ": bad \"utc\"");
  return absl::OkStatus();
}

absl::Status ReadManifest(const Json& j, Manifest* m) {
  if (!j.is_object()) return Bad("manifest: not a JSON object");
  ObjectReader r(j, "manifest");
  std::string format;
  PC_RETURN_IF_ERROR(r.String("format", &format));
  if (format != kManifestFormat) return Bad("manifest: unknown \"format\"");
  PC_RETURN_IF_ERROR(r.String("recording_id", &m->recording_id, kMaxRecordingIdLength));
  PC_RETURN_IF_ERROR(r.String("recording_file", &m->recording_file, 2 * kMaxRecordingIdLength));
  PC_RETURN_IF_ERROR(r.String("media_type", &m->media_type, kMaxMediaType));
  PC_RETURN_IF_ERROR(r.String("session_id", &m->session_id, kMaxSessionIdLength));
  int64_t channel = 0;
  PC_RETURN_IF_ERROR(r.Signed("channel", &channel, INT32_MAX));
  m->channel = static_cast<int>(channel);
  PC_RETURN_IF_ERROR(r.String("protocol", &m->protocol));
  PC_RETURN_IF_ERROR(r.String("user", &m->user));
  PC_RETURN_IF_ERROR(r.String("login", &m->login));
  PC_RETURN_IF_ERROR(r.String("target", &m->target));
  PC_RETURN_IF_ERROR(r.String("target_address", &m->target_address));
  PC_RETURN_IF_ERROR(r.String("source", &m->source));
  PC_RETURN_IF_ERROR(r.String("command", &m->command));
  PC_RETURN_IF_ERROR(r.Strings("roles", &m->roles));
  PC_RETURN_IF_ERROR(r.String("rule", &m->rule));
  PC_RETURN_IF_ERROR(r.Strings("approvals", &m->approvals));
  PC_RETURN_IF_ERROR(r.Unsigned("certificate_serial", &m->certificate_serial));
  PC_RETURN_IF_ERROR(r.Bool("record_input", &m->record_input));
  PC_RETURN_IF_ERROR(r.String("started", &m->started, kUtcLength));
  PC_RETURN_IF_ERROR(r.String("ended", &m->ended, kUtcLength));
  PC_RETURN_IF_ERROR(r.Signed("duration_micros", &m->duration_micros, INT64_MAX));
  PC_RETURN_IF_ERROR(r.String("end_reason", &m->end_reason));
  PC_RETURN_IF_ERROR(r.String("state", &m->state, 16));
  PC_RETURN_IF_ERROR(r.String("failure", &m->failure));
  PC_RETURN_IF_ERROR(r.Unsigned("size", &m->size));
  PC_RETURN_IF_ERROR(r.String("sha256", &m->sha256_hex, kSha256HexLength));
  PC_RETURN_IF_ERROR(r.String("key", &m->key, 8 + kSha256HexLength));
  absl::Status st;
  const Json* cps = r.Array("checkpoints", &st);
  if (cps == nullptr) return st;
  PC_RETURN_IF_ERROR(r.Done());

  if (!ValidRecordingId(m->recording_id)) return Bad("manifest: bad \"recording_id\"");
  if (!ValidSessionId(m->session_id)) return Bad("manifest: bad \"session_id\"");
  if (m->recording_id != fmt::format("{}.{}", m->session_id, m->channel)) {
    return Bad("manifest: \"recording_id\" is not \"<session_id>.<channel>\"");
  }
  const std::string& file = m->recording_file;
  if (file.size() <= m->recording_id.size() + 1 ||
      file.compare(0, m->recording_id.size() + 1, m->recording_id + ".") != 0 ||
      !ValidExtension(std::string_view(file).substr(m->recording_id.size() + 1))) {
    return Bad("manifest: \"recording_file\" is not \"<recording_id>.<extension>\"");
  }
  if (!ValidMediaType(m->media_type)) return Bad("manifest: bad \"media_type\"");
  if (!ValidUtc(m->started)) return Bad("manifest: bad \"started\"");
  if (!ValidUtc(m->ended)) return Bad("manifest: bad \"ended\"");
  if (m->state != "complete" && m->state != "failed") return Bad("manifest: bad \"state\"");
  if (m->state == "complete" && !m->failure.empty()) {
    return Bad("manifest: a complete recording with a \"failure\"");
  }
  if (!IsLowerHex(m->sha256_hex, kSha256HexLength)) return Bad("manifest: bad \"sha256\"");
  if (m->key.size() != 8 + kSha256HexLength || m->key.compare(0, 8, "ed25519:") != 0 ||
      !IsLowerHex(std::string_view(m->key).substr(8), kSha256HexLength)) {
    return Bad("manifest: bad \"key\"");
  }
  if (cps->size() > kMaxCheckpoints) return Bad("manifest: too many checkpoints");
  m->checkpoints.clear();
  m->checkpoints.reserve(cps->size());
  for (size_t i = 0; i < cps->size(); ++i) {
    Checkpoint cp;
    PC_RETURN_IF_ERROR(ReadCheckpoint((*cps)[i], i, m->recording_id, &cp));
    m->checkpoints.push_back(std::move(cp));
  }
  return absl::OkStatus();
}

}  // namespace

// ------------------------------------------------------------------ helpers

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

RecordingPaths SidecarsOf(std::string recording, const std::string& stem) {
  return {std::move(recording), stem + std::string(kSealExt), stem + std::string(kManifestExt),
          stem + std::string(kSignatureExt)};
}

}  // namespace

RecordingPaths PathsFor(std::string_view recording_path) {
  std::string_view stem = recording_path;
  const size_t slash = stem.rfind('/');
  const size_t name = slash == std::string_view::npos ? 0 : slash + 1;
  const size_t dot = stem.rfind('.');
  if (dot != std::string_view::npos && dot > name && ValidExtension(stem.substr(dot + 1))) {
    stem = stem.substr(0, dot);
  }
  return SidecarsOf(std::string(recording_path), std::string(stem));
}

std::optional<RecordingPaths> PathsForSidecar(std::string_view path) {
  const size_t slash = path.rfind('/');
  const size_t name = slash == std::string_view::npos ? 0 : slash + 1;
  for (std::string_view ext : {kManifestExt, kSignatureExt, kSealExt}) {
    if (EndsWith(path, ext) && path.size() > name + ext.size()) {
      return SidecarsOf("", std::string(path.substr(0, path.size() - ext.size())));
    }
  }
  return std::nullopt;
}

bool ValidRecordingId(std::string_view id) {
  return id != "." && id != ".." && ValidName(id, kMaxRecordingIdLength, true);
}

bool IsSealPayload(std::string_view payload) {
  const bool checkpoint = payload.size() > kCheckpointMagic.size() &&
                          payload.substr(0, kCheckpointMagic.size()) == kCheckpointMagic &&
                          payload[kCheckpointMagic.size()] == ' ';
  return checkpoint || payload.substr(0, kManifestPrefix.size()) == kManifestPrefix;
}

std::string FormatElapsed(int64_t micros) {
  if (micros < 0) micros = 0;
  return fmt::format("{}.{:06}", micros / 1'000'000, micros % 1'000'000);
}

std::string RecordingKeyId(std::string_view public_raw) {
  return "ed25519:" + HexEncode(Sha256(public_raw));
}

// -------------------------------------------------------------- checkpoints

std::string CheckpointPayload(const Checkpoint& cp) {
  return fmt::format("{} {} {} {} {} {} {}", kCheckpointMagic, cp.recording_id, cp.seq, cp.offset,
                     FormatElapsed(cp.elapsed_micros), cp.sha256_hex, cp.utc);
}

std::string CheckpointLine(const Checkpoint& cp) {
  return fmt::format("{} {}\n", CheckpointPayload(cp), Base64Encode(cp.signature));
}

absl::StatusOr<Checkpoint> ParseCheckpointLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() > kMaxCheckpointLine) return Bad("checkpoint: line too long");
  std::vector<std::string_view> f;
  size_t start = 0;
  while (f.size() < 9) {
    const size_t sp = line.find(' ', start);
    f.push_back(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  if (f.size() != 8) return Bad("checkpoint: not 8 space-separated fields");
  if (f[0] != kCheckpointMagic) return Bad("checkpoint: not a portcullis-checkpoint/1 line");
  Checkpoint cp;
  if (!ValidRecordingId(f[1])) return Bad("checkpoint: bad recording id");
  cp.recording_id = std::string(f[1]);
  if (!ParseDecimal(f[2], &cp.seq)) return Bad("checkpoint: bad seq");
  if (!ParseDecimal(f[3], &cp.offset)) return Bad("checkpoint: bad offset");
  if (!ParseElapsed(f[4], &cp.elapsed_micros)) return Bad("checkpoint: bad elapsed time");
  if (!IsLowerHex(f[5], kSha256HexLength)) return Bad("checkpoint: bad sha256");
  cp.sha256_hex = std::string(f[5]);
  if (!ValidUtc(f[6])) return Bad("checkpoint: bad UTC time");
  cp.utc = std::string(f[6]);
  if (f[7].size() != kSignatureBase64Length) return Bad("checkpoint: bad signature");
  auto sig = Base64Decode(f[7]);
  if (!sig.ok() || sig->size() != 64 || Base64Encode(*sig) != f[7]) {
    return Bad("checkpoint: bad signature");
  }
  cp.signature = std::move(*sig);
  return cp;
}

// ----------------------------------------------------------------- manifest

std::string ManifestJson(const Manifest& m) {
  Json j;
  j["format"] = kManifestFormat;
  j["recording_id"] = m.recording_id;
  j["recording_file"] = m.recording_file;
  j["media_type"] = m.media_type;
  j["session_id"] = m.session_id;
  j["channel"] = m.channel < 0 ? 0 : m.channel;
  j["protocol"] = m.protocol;
  j["user"] = m.user;
  j["login"] = m.login;
  j["target"] = m.target;
  j["target_address"] = m.target_address;
  j["source"] = m.source;
  j["command"] = m.command;
  j["roles"] = m.roles;
  j["rule"] = m.rule;
  j["approvals"] = m.approvals;
  j["certificate_serial"] = m.certificate_serial;
  j["record_input"] = m.record_input;
  j["started"] = m.started;
  j["ended"] = m.ended;
  j["duration_micros"] = m.duration_micros < 0 ? 0 : m.duration_micros;
  j["end_reason"] = m.end_reason;
  j["state"] = m.state;
  j["failure"] = m.failure;
  j["size"] = m.size;
  j["sha256"] = m.sha256_hex;
  j["key"] = m.key;
  Json cps = Json::array();
  for (const Checkpoint& cp : m.checkpoints) {
    Json c;
    c["seq"] = cp.seq;
    c["offset"] = cp.offset;
    c["elapsed_micros"] = cp.elapsed_micros < 0 ? 0 : cp.elapsed_micros;
    c["sha256"] = cp.sha256_hex;
    c["utc"] = cp.utc;
    cps.push_back(std::move(c));
  }
  j["checkpoints"] = std::move(cps);
  // replace: invalid UTF-8 in metadata becomes U+FFFD instead of throwing.
  std::string out = j.dump(2, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

absl::StatusOr<Manifest> ParseManifest(std::string_view bytes) {
  if (bytes.size() > kMaxManifestBytes) return Bad("manifest: larger than 4 MiB");
  if (bytes.substr(0, kManifestPrefix.size()) != kManifestPrefix) {
    return Bad("manifest: does not start with the portcullis-recording-manifest/1 format");
  }
  if (!JsonNestingWithin(bytes, kMaxManifestDepth)) return Bad("manifest: nested too deeply");
  // Duplicate keys are refused: the parser would silently keep the last.
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  Json::parser_callback_t cb = [&](int depth, Json::parse_event_t ev, Json& parsed) {
    const auto d = static_cast<size_t>(depth);
    if (ev == Json::parse_event_t::object_start) {
      if (keys.size() <= d + 1) keys.resize(d + 2);
      keys[d + 1].clear();
    } else if (ev == Json::parse_event_t::key && parsed.is_string()) {
      if (keys.size() <= d) keys.resize(d + 1);
      if (!keys[d].insert(parsed.get<std::string>()).second) duplicate = true;
    }
    return true;
  };
  try {
    Json j = Json::parse(bytes.begin(), bytes.end(), cb, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Bad("manifest: not valid JSON");
    if (duplicate) return Bad("manifest: a key appears twice");
    Manifest m;
    PC_RETURN_IF_ERROR(ReadManifest(j, &m));
    return m;
  } catch (const std::exception&) {
    // Defensive: every access above is type-checked first.
    return Bad("manifest: not valid JSON");
  }
}

}  // namespace portcullis::recorder
