#include "recorder/cast_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/common/absl_fmt.h"
#include "broker/common/bounded_reader.h"

namespace portcullis::recorder {
namespace {

// Reads are sized to what is left of the file (as fstat saw it) and to the
// line being read, between these bounds: a small file costs a small buffer,
// a long line grows it geometrically.
constexpr size_t kMinReadBlock = 4u << 10;
constexpr size_t kReadBlock = 1u << 20;
constexpr int kMaxDimension = 10000;
constexpr double kMaxSeconds = 1e9;  // ~31 years: anything later is garbage

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// A cursor over one event line. Each Parse* returns false on malformed input.
class LineCursor {
 public:
  explicit LineCursor(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Expect(char c) {
    SkipSpace();
    if (i_ >= s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }

  // A JSON number of seconds >= 0, as microseconds.
  bool ParseSeconds(int64_t* micros) {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                              s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
      ++i_;
    }
    if (i_ == start || i_ - start > 32) return false;
    double v = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + i_, v);
    if (ec != std::errc() || ptr != s_.data() + i_) return false;
    if (!std::isfinite(v) || v < 0 || v > kMaxSeconds) return false;
    *micros = std::llround(v * 1e6);
    return true;
  }

  // A JSON string, decoded into *out (UTF-8, checked).
  bool ParseString(std::string* out) {
    out->clear();
    if (!Expect('"')) return false;
    for (;;) {
      // Copy the run of plain bytes at once.
      size_t run = i_;
      while (run < s_.size() && s_[run] != '"' && s_[run] != '\\' &&
             static_cast<unsigned char>(s_[run]) >= 0x20) {
        ++run;
      }
      out->append(s_.data() + i_, run - i_);
      i_ = run;
      if (i_ >= s_.size()) return false;
      char c = s_[i_++];
      if (c == '"') break;
      if (c != '\\') return false;  // a raw control character
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u':
          if (!ParseUnicodeEscape(out)) return false;
          break;
        default: return false;
      }
    }
    return IsValidUtf8(*out);
  }

 private:
  bool Hex4(uint32_t* v) {
    if (s_.size() - i_ < 4) return false;
    uint32_t r = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      r <<= 4;
      if (c >= '0' && c <= '9') r |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') r |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') r |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    *v = r;
    return true;
  }

  // After "\u": one code point, or a surrogate pair "\uD8xx\uDCxx".
  bool ParseUnicodeEscape(std::string* out) {
    uint32_t cp;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo;
      if (s_.size() - i_ < 6 || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
      i_ += 2;
      if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Reads an optional string member; a present member of another type is an error.
bool OptionalString(const nlohmann::json& obj, const char* key, size_t max_len, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) return false;
  *out = s;
  return true;
}

}  // namespace

absl::StatusOr<CastHeader> ParseCastHeader(std::string_view line) {
  if (line.size() > (64u << 10)) return Bad("recording header: longer than 64 KiB");
  nlohmann::json h = nlohmann::json::parse(line.begin(), line.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) {
    return Bad("recording header: not a JSON object (is this an asciicast v2 file?)");
  }
  CastHeader out;
  auto version = h.find("version");
  if (version == h.end() || !version->is_number_integer() || version->get<int64_t>() != 2) {
    return Bad("recording header: not asciicast version 2");
  }
  for (auto [key, dst] : {std::pair{"width", &out.width}, std::pair{"height", &out.height}}) {
    auto it = h.find(key);
    if (it == h.end() || !it->is_number_integer()) {
      return Bad(fmt::format("recording header: \"{}\" missing or not an integer", key));
    }
    int64_t v = it->get<int64_t>();
    if (v < 1 || v > kMaxDimension) {
      return Bad(fmt::format("recording header: \"{}\" out of range", key));
    }
    *dst = static_cast<int>(v);
  }
  if (auto it = h.find("timestamp"); it != h.end()) {
    if (!it->is_number_integer()) return Bad("recording header: \"timestamp\" not an integer");
    out.timestamp = it->get<int64_t>();
  }
  if (!OptionalString(h, "title", 4096, &out.title) ||
      !OptionalString(h, "command", 16384, &out.command)) {
    return Bad("recording header: \"title\" or \"command\" is not a string");
  }
  if (auto env = h.find("env"); env != h.end() && env->is_object()) {
    if (!OptionalString(*env, "TERM", 256, &out.term)) {
      return Bad("recording header: env TERM is not a string");
    }
  }
  if (auto pc = h.find("portcullis"); pc != h.end()) {
    if (!pc->is_object()) return Bad("recording header: \"portcullis\" is not an object");
    for (auto [key, dst] :
         {std::pair{"session_id", &out.session_id}, std::pair{"user", &out.user},
          std::pair{"login", &out.login}, std::pair{"target", &out.target},
          std::pair{"protocol", &out.protocol}, std::pair{"source", &out.source}}) {
      if (!OptionalString(*pc, key, 1024, dst)) {
        return Bad(fmt::format("recording header: portcullis.{} is not a string", key));
      }
    }
    if (auto ch = pc->find("channel"); ch != pc->end()) {
      if (!ch->is_number_integer() || ch->get<int64_t>() < 0 || ch->get<int64_t>() > 1000000) {
        return Bad("recording header: portcullis.channel is not a small integer");
      }
      out.channel = static_cast<int>(ch->get<int64_t>());
    }
    if (auto ri = pc->find("record_input"); ri != pc->end()) {
      if (!ri->is_boolean()) return Bad("recording header: portcullis.record_input is not a boolean");
      out.record_input = ri->get<bool>();
    }
  }
  return out;
}

absl::Status ParseCastEvent(std::string_view line, CastEvent* ev) {
  LineCursor c(line);
  if (!c.Expect('[')) return Bad("event is not a JSON array");
  if (!c.ParseSeconds(&ev->micros)) return Bad("event time is not a number of seconds >= 0");
  if (!c.Expect(',')) return Bad("event has no type");
  std::string type;
  if (!c.ParseString(&type) || type.size() != 1 ||
      (type[0] != 'o' && type[0] != 'i' && type[0] != 'r' && type[0] != 'm')) {
    return Bad("event type is not \"o\", \"i\", \"r\" or \"m\"");
  }
  ev->type = type[0];
  if (!c.Expect(',')) return Bad("event has no data");
  if (!c.ParseString(&ev->data)) return Bad("event data is not a valid JSON string");
  if (!c.Expect(']') || !c.AtEnd()) return Bad("event has trailing bytes");
  return absl::OkStatus();
}

// ------------------------------------------------------------------ CastReader

absl::StatusOr<std::unique_ptr<CastReader>> CastReader::Open(const std::string& path,
                                                             CastLimits limits) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  std::unique_ptr<CastReader> r(new CastReader(fd, limits));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(fmt::format("{} is not a regular file", path));
  }
  r->file_size_ = static_cast<uint64_t>(st.st_size);
  if (r->file_size_ > limits.max_file_bytes) {
    return absl::InvalidArgumentError(
        fmt::format("{} is {} bytes, larger than the cap of {} bytes", path, r->file_size_,
                    limits.max_file_bytes));
  }
  std::string_view line;
  uint64_t at = 0;
  const size_t event_cap = r->limits_.max_event_bytes;
  r->limits_.max_event_bytes = limits.max_header_bytes;
  auto got = r->ReadLine(&line, &at);
  r->limits_.max_event_bytes = event_cap;
  if (!got.ok()) return got.status();
  if (!*got) return absl::InvalidArgumentError(fmt::format("{} is empty", path));
  auto header = ParseCastHeader(line);
  if (!header.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, header.status().message()));
  }
  r->header_ = std::move(*header);
  r->header_line_.assign(line);
  r->header_line_.push_back('\n');
  return r;
}

CastReader::~CastReader() {
  if (fd_ >= 0) ::close(fd_);
}

// Sets *line to the next line without '\n' (valid until the next call).
// False at the end of the file. A last line without '\n' is returned too.
absl::StatusOr<bool> CastReader::ReadLine(std::string_view* line, uint64_t* at) {
  size_t scan_from = begin_;  // bytes before this hold no '\n'
  for (;;) {
    size_t nl = buf_.find('\n', scan_from);
    if (nl != std::string::npos) {
      if (nl - begin_ > limits_.max_event_bytes) break;
      *line = std::string_view(buf_).substr(begin_, nl - begin_);
      *at = pos_;
      last_terminated_ = true;
      ++line_no_;
      pos_ += nl + 1 - begin_;
      begin_ = nl + 1;
      return true;
    }
    if (buf_.size() - begin_ > limits_.max_event_bytes) break;
    if (eof_) {
      if (begin_ == buf_.size()) return false;
      *line = std::string_view(buf_).substr(begin_);
      *at = pos_;
      last_terminated_ = false;
      ++line_no_;
      pos_ += buf_.size() - begin_;
      begin_ = buf_.size();
      return true;
    }
    // Keep the unread tail, then read another block.
    buf_.erase(0, begin_);
    begin_ = 0;
    const size_t old = buf_.size();
    scan_from = old;
    const uint64_t end = pos_ + old;
    const uint64_t left = file_size_ > end ? file_size_ - end : 0;
    const size_t block = static_cast<size_t>(
        std::clamp<uint64_t>(std::max<uint64_t>(left, old), kMinReadBlock, kReadBlock));
    buf_.resize(old + block);
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data() + old, block);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      buf_.resize(old);
      return absl::InternalError(fmt::format("cannot read recording: {}", std::strerror(errno)));
    }
    buf_.resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
    if (pos_ + buf_.size() > limits_.max_file_bytes) {
      return absl::InvalidArgumentError(fmt::format(
          "recording grew past the cap of {} bytes while reading", limits_.max_file_bytes));
    }
  }
  return absl::InvalidArgumentError(fmt::format("line {} at byte {} is longer than {} bytes",
                                                line_no_ + 1, pos_, limits_.max_event_bytes));
}

absl::StatusOr<bool> CastReader::Next(CastEvent* ev) {
  for (;;) {
    std::string_view line;
    uint64_t at = 0;
    auto got = ReadLine(&line, &at);
    if (!got.ok()) return got.status();
    if (!*got) return false;
    if (line.empty() || line == "\r") continue;  // tolerate blank lines
    if (auto st = ParseCastEvent(line, ev); !st.ok()) {
      if (!last_terminated_) return false;  // a line cut by a crash
      return absl::InvalidArgumentError(
          fmt::format("line {} at byte {}: {}", line_no_, at, st.message()));
    }
    ev->offset = at;
    return true;
  }
}

absl::Status CastReader::Seek(uint64_t offset) {
  if (offset < header_line_.size() || offset > file_size_) {
    return absl::OutOfRangeError(fmt::format("seek offset {} outside the events", offset));
  }
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return absl::InternalError(fmt::format("cannot seek: {}", std::strerror(errno)));
  }
  buf_.clear();
  begin_ = 0;
  pos_ = offset;
  eof_ = false;
  line_no_ = 0;  // line numbers after a seek count from the seek point
  return absl::OkStatus();
}

}  // namespace portcullis::recorder
