#include "recorder/graphical/graphical_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/common/status_macros.h"

namespace portcullis::recorder {
namespace {

constexpr size_t kWindow = 1u << 20;

bool PictureType(GraphicalRecord t) {
  return t == GraphicalRecord::kKeyframe || t == GraphicalRecord::kDelta ||
         t == GraphicalRecord::kResize;
}

// Sequential reads for the scan, a window at a time.
class Window {
 public:
  Window(int fd, uint64_t size) : fd_(fd), size_(size) {}
  // [offset, offset + n) of the file, or false if it is not all there.
  absl::StatusOr<bool> Get(uint64_t offset, size_t n, std::string_view* out) {
    if (offset > size_ || n > size_ - offset) return false;
    if (offset < start_ || offset + n > start_ + buf_.size()) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, kWindow), size_ - offset));
      buf_.resize(want);
      size_t got = 0;
      while (got < want) {
        ssize_t r = ::pread(fd_, buf_.data() + got, want - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return absl::UnavailableError(std::strerror(errno));
        if (r == 0) break;
        got += static_cast<size_t>(r);
      }
      buf_.resize(got);
      start_ = offset;
      if (got < n) return false;
    }
    *out = std::string_view(buf_).substr(static_cast<size_t>(offset - start_), n);
    return true;
  }

 private:
  int fd_;
  uint64_t size_;
  uint64_t start_ = 0;
  std::string buf_;
};

}  // namespace

GraphicalReader::GraphicalReader(int fd, std::string name, GraphicalLimits limits)
    : fd_(fd), name_(std::move(name)), limits_(limits) {}

GraphicalReader::~GraphicalReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<GraphicalReader>> GraphicalReader::Open(const std::string& path,
                                                                       GraphicalLimits limits) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  return OpenFd(fd, path, limits);
}

absl::StatusOr<std::unique_ptr<GraphicalReader>> GraphicalReader::OpenFd(int fd, std::string name,
                                                                         GraphicalLimits limits) {
  std::unique_ptr<GraphicalReader> r(new GraphicalReader(fd, std::move(name), limits));
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    return absl::InvalidArgumentError(fmt::format("{} is not a regular file", r->name_));
  }
  r->file_size_ = static_cast<uint64_t>(sb.st_size);
  if (auto st = r->Scan(); !st.ok()) return st;
  return r;
}

absl::Status GraphicalReader::Bad(uint64_t offset, std::string_view what) const {
  return absl::DataLossError(
      fmt::format("{}: not a valid graphical recording at byte {}: {}", name_, offset, what));
}

absl::Status GraphicalReader::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, out->data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(fmt::format("{}: {}", name_, std::strerror(errno)));
    if (r == 0) return Bad(offset + got, "the file ends inside a record");
    got += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status GraphicalReader::Scan() {
  Window win(fd_, file_size_);
  // The header line.
  std::string_view head;
  const size_t head_max = static_cast<size_t>(std::min<uint64_t>(limits_.max_header_bytes, file_size_));
  auto got = win.Get(0, head_max, &head);
  if (!got.ok()) return got.status();
  const size_t nl = head.find('\n');
  if (nl == std::string_view::npos) return Bad(0, "no header line");
  header_ = std::string(head.substr(0, nl));
  nlohmann::json h = nlohmann::json::parse(header_, nullptr, /*allow_exceptions=*/false);
  if (!h.is_object() || !h.contains("format") || !h["format"].is_string() ||
      h["format"].get<std::string>() != kGraphicalFormatName) {
    return Bad(0, fmt::format("the header line does not name {}", kGraphicalFormatName));
  }

  uint64_t pos = nl + 1;
  valid_bytes_ = pos;
  int64_t last_picture = 0;
  uint32_t mask = 0;
  bool have_size = false;
  std::string_view rec;
  auto event_room = [&]() { return events_.size() + markers_.size() < limits_.max_events; };
  while (pos < file_size_) {
    auto ok = win.Get(pos, kGraphicalRecordHead, &rec);
    if (!ok.ok()) return ok.status();
    if (!*ok) {
      truncated_ = true;
      break;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(rec.data());
    const uint32_t len = GetU32(p);
    const auto type = static_cast<GraphicalRecord>(p[4]);
    const uint64_t t = GetU64(p + 5);
    if (p[4] < 1 || p[4] > 8) return Bad(pos, fmt::format("unknown record type {}", p[4]));
    if (len > limits_.max_record_bytes) return Bad(pos, "record longer than allowed");
    if (t > uint64_t{INT64_MAX} / 2) return Bad(pos, "time out of range");
    const int64_t micros = static_cast<int64_t>(t);
    const uint64_t body = pos + kGraphicalRecordHead;
    if (len > file_size_ - body) {
      truncated_ = true;
      break;
    }
    // What each type's payload must be (pictures: their fixed part).
    size_t need = 0;
    bool exact = true;
    switch (type) {
      case GraphicalRecord::kKeyframe: need = 8; exact = false; break;
      case GraphicalRecord::kDelta: need = 4; exact = false; break;
      case GraphicalRecord::kResize: need = 8; break;
      case GraphicalRecord::kCursor: need = 16; exact = false; break;
      case GraphicalRecord::kPointer: need = 12; break;
      case GraphicalRecord::kKey: need = 5; break;
      case GraphicalRecord::kClipboard: need = 41; break;
      case GraphicalRecord::kMarker: need = 0; exact = false; break;
    }
    if (len < need || (exact && len != need)) return Bad(pos, "record of the wrong length");
    if (type == GraphicalRecord::kMarker && len > limits_.max_marker_bytes) {
      return Bad(pos, "marker longer than allowed");
    }
    std::string_view pl;
    const size_t read = type == GraphicalRecord::kMarker ? len : need;
    ok = win.Get(body, read, &pl);
    if (!ok.ok()) return ok.status();
    if (!*ok) return Bad(body, "short read");
    const auto* q = reinterpret_cast<const uint8_t*>(pl.data());
    if (PictureType(type)) {
      if (micros < last_picture) return Bad(pos, "picture records out of time order");
      last_picture = micros;
      if (type != GraphicalRecord::kDelta) {
        const uint32_t w = GetU32(q), hh = GetU32(q + 4);
        if (w == 0 || hh == 0 || w > uint32_t(limits_.max_width) || hh > uint32_t(limits_.max_height)) {
          return Bad(pos, fmt::format("framebuffer size {}x{} out of range", w, hh));
        }
        max_width_ = std::max(max_width_, int(w));
        max_height_ = std::max(max_height_, int(hh));
        seek_points_.push_back(pictures_.size());
        have_size = true;
      } else if (!have_size) {
        return Bad(pos, "a delta before any keyframe or resize");
      }
      pictures_.push_back({body, len, type, micros});
    } else if (type == GraphicalRecord::kCursor) {
      const uint32_t w = GetU32(q + 8), hh = GetU32(q + 12);
      if (w > uint32_t(kMaxCursorSide) || hh > uint32_t(kMaxCursorSide) || (w == 0) != (hh == 0) ||
          (w == 0 && len != 16)) {
        return Bad(pos, "cursor shape out of range");
      }
    } else if (type == GraphicalRecord::kPointer) {
      const uint32_t x = GetU32(q), y = GetU32(q + 4), m = GetU32(q + 8);
      if (x > uint32_t(kMaxGraphicalSide) * 2 || y > uint32_t(kMaxGraphicalSide) * 2) {
        return Bad(pos, "pointer position out of range");
      }
      for (int b = 0; b < 32; ++b) {
        const uint32_t bit = uint32_t{1} << b;
        if (((m ^ mask) & bit) == 0 || !event_room()) continue;
        GraphicalInputEvent ev;
        ev.kind = GraphicalInputEvent::Kind::kButton;
        ev.micros = micros;
        ev.button = b + 1;
        ev.down = (m & bit) != 0;
        ev.x = int(x);
        ev.y = int(y);
        events_.push_back(std::move(ev));
      }
      mask = m;
    } else if (type == GraphicalRecord::kKey) {
      if (q[4] > 1) return Bad(pos, "key record neither down nor up");
      if (event_room()) {
        GraphicalInputEvent ev;
        ev.kind = GraphicalInputEvent::Kind::kKey;
        ev.micros = micros;
        ev.keysym = GetU32(q);
        ev.down = q[4] == 1;
        events_.push_back(std::move(ev));
      }
    } else if (type == GraphicalRecord::kClipboard) {
      if (q[0] > 1) return Bad(pos, "clipboard record of no direction");
      if (event_room()) {
        GraphicalInputEvent ev;
        ev.kind = GraphicalInputEvent::Kind::kClipboard;
        ev.micros = micros;
        ev.to_target = q[0] == 1;
        ev.length = GetU64(q + 1);
        ev.sha256 = std::string(pl.substr(9, 32));
        events_.push_back(std::move(ev));
      }
    } else if (type == GraphicalRecord::kMarker) {
      if (event_room()) markers_.push_back({micros, std::string(pl)});
    }
    duration_ = std::max(duration_, micros);
    pos = body + len;
    valid_bytes_ = pos;
  }
  std::stable_sort(events_.begin(), events_.end(),
                   [](const GraphicalInputEvent& a, const GraphicalInputEvent& b) {
                     return a.micros < b.micros;
                   });
  return absl::OkStatus();
}

absl::Status GraphicalReader::Apply(const Picture& p) {
  PC_RETURN_IF_ERROR(ReadAt(p.offset, p.len, &payload_));
  const auto* q = reinterpret_cast<const uint8_t*>(payload_.data());
  const std::string_view pl(payload_);
  switch (p.type) {
    case GraphicalRecord::kResize:
    case GraphicalRecord::kKeyframe: {
      const uint32_t w = GetU32(q), h = GetU32(q + 4);  // checked by Scan
      width_ = int(w);
      height_ = int(h);
      const size_t bytes = size_t{w} * h * 4;
      if (p.type == GraphicalRecord::kResize) {
        fb_.assign(bytes, 0);
        return absl::OkStatus();
      }
      fb_.resize(bytes);
      absl::Status st = zstd_.DecompressExactly(pl.substr(8), fb_.data(), bytes);
      if (!st.ok()) return Bad(p.offset, std::string(st.message()));
      return absl::OkStatus();
    }
    case GraphicalRecord::kDelta: {
      const uint32_t n = GetU32(q);
      if (n == 0 || n > (p.len - 4) / 16) return Bad(p.offset, "bad rectangle count");
      uint64_t area = 0;
      for (uint32_t i = 0; i < n; ++i) {
        const uint8_t* r = q + 4 + i * 16;
        const uint64_t x = GetU32(r), y = GetU32(r + 4), w = GetU32(r + 8), h = GetU32(r + 12);
        if (w == 0 || h == 0 || x + w > uint64_t(width_) || y + h > uint64_t(height_)) {
          return Bad(p.offset, "rectangle outside the framebuffer");
        }
        area += w * h;
        if (area > uint64_t(width_) * uint64_t(height_)) {
          return Bad(p.offset, "rectangles larger than the framebuffer");
        }
      }
      xor_.resize(static_cast<size_t>(area) * 4);
      absl::Status st = zstd_.DecompressExactly(pl.substr(4 + size_t{n} * 16), xor_.data(), xor_.size());
      if (!st.ok()) return Bad(p.offset, std::string(st.message()));
      const size_t stride = size_t(width_) * 4;
      const uint8_t* x = xor_.data();
      for (uint32_t i = 0; i < n; ++i) {
        const uint8_t* r = q + 4 + i * 16;
        const uint32_t rx = GetU32(r), ry = GetU32(r + 4), rw = GetU32(r + 8), rh = GetU32(r + 12);
        const size_t row = size_t{rw} * 4;
        for (uint32_t k = 0; k < rh; ++k) {
          uint8_t* d = fb_.data() + (size_t{ry} + k) * stride + size_t{rx} * 4;
          for (size_t b = 0; b < row; ++b) d[b] ^= x[b];
          x += row;
        }
      }
      return absl::OkStatus();
    }
    default:
      return Bad(p.offset, "not a picture record");
  }
}

VideoFrame GraphicalReader::Current(int64_t micros) const {
  VideoFrame f;
  f.micros = micros;
  f.width = width_;
  f.height = height_;
  f.bgra = fb_.data();
  f.stride = size_t(width_) * 4;
  return f;
}

absl::StatusOr<bool> GraphicalReader::Next(VideoFrame* frame) {
  if (next_ >= pictures_.size()) return false;
  const Picture& p = pictures_[next_];
  if (next_ == 0 && p.type == GraphicalRecord::kDelta) return Bad(p.offset, "no picture to apply to");
  PC_RETURN_IF_ERROR(Apply(p));
  ++next_;
  *frame = Current(p.micros);
  return true;
}

absl::StatusOr<VideoFrame> GraphicalReader::SeekTo(int64_t micros) {
  if (pictures_.empty()) return absl::NotFoundError(fmt::format("{}: no pictures", name_));
  // The last seek point at or before `micros` (else the first one).
  auto it = std::upper_bound(seek_points_.begin(), seek_points_.end(), micros,
                             [this](int64_t t, size_t i) { return t < pictures_[i].micros; });
  size_t from = it == seek_points_.begin() ? seek_points_.front() : *(it - 1);
  PC_RETURN_IF_ERROR(Apply(pictures_[from]));
  size_t i = from + 1;
  while (i < pictures_.size() && pictures_[i].micros <= micros) {
    PC_RETURN_IF_ERROR(Apply(pictures_[i]));
    ++i;
  }
  next_ = i;
  return Current(pictures_[i - 1].micros);
}

}  // namespace portcullis::recorder
