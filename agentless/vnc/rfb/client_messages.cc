#include "agentless/vnc/rfb/client_messages.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace portcullis::agentless::rfb {
namespace {

constexpr uint8_t kSetPixelFormat = 0;
constexpr uint8_t kSetEncodings = 2;
constexpr uint8_t kUpdateRequest = 3;
constexpr uint8_t kKeyEvent = 4;
constexpr uint8_t kPointerEvent = 5;
constexpr uint8_t kClientCutText = 6;
constexpr uint8_t kSetDesktopSize = 251;

uint8_t U8(std::string_view b, size_t at) { return static_cast<uint8_t>(b[at]); }
uint16_t U16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((U8(b, at) << 8) | U8(b, at + 1));
}
uint32_t U32(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(U16(b, at)) << 16) | U16(b, at + 2);
}
void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void PutU32(std::string& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xffff));
}

// The whole length of the message that `b` begins with, from as much of its
// header as `b` holds: a value > b.size() means "read at least this much and
// ask again". Limits are checked here, before anything is buffered.
absl::Status MessageSize(std::string_view b, const ClientLimits& limits, size_t* need) {
  if (b.empty()) {
    *need = 1;
    return absl::OkStatus();
  }
  switch (U8(b, 0)) {
    case kSetPixelFormat:
      *need = 20;
      return absl::OkStatus();
    case kSetEncodings: {
      if (b.size() < 4) {
        *need = 4;
        return absl::OkStatus();
      }
      const size_t n = U16(b, 2);
      if (n > limits.max_encodings) return absl::InvalidArgumentError("SetEncodings: too many encodings");
      *need = 4 + 4 * n;
      return absl::OkStatus();
    }
    case kUpdateRequest:
      *need = 10;
      return absl::OkStatus();
    case kKeyEvent:
      *need = 8;
      return absl::OkStatus();
    case kPointerEvent:
      *need = 6;
      return absl::OkStatus();
    case kClientCutText: {
      if (b.size() < 8) {
        *need = 8;
        return absl::OkStatus();
      }
      const uint32_t n = U32(b, 4);  // the extended-clipboard form (negative) is over any limit
      if (n > limits.max_cut_text) return absl::InvalidArgumentError("ClientCutText: text too long");
      *need = 8 + static_cast<size_t>(n);
      return absl::OkStatus();
    }
    case kSetDesktopSize: {
      if (b.size() < 8) {
        *need = 8;
        return absl::OkStatus();
      }
      const int n = U8(b, 6);
      if (n < 1 || n > limits.max_screens) return absl::InvalidArgumentError("SetDesktopSize: bad screen count");
      *need = 8 + 16 * static_cast<size_t>(n);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("viewer message type ", U8(b, 0), " not allowed"));
  }
}

// `b` is exactly one whole message whose size MessageSize accepted.
absl::Status Decode(std::string_view b, ClientMessage* m) {
  switch (U8(b, 0)) {
    case kSetPixelFormat: {
      m->type = ClientMessage::Type::kSetPixelFormat;
      auto pf = ParsePixelFormat(b.substr(4, 16));
      if (!pf.ok()) return absl::InvalidArgumentError(absl::StrCat("SetPixelFormat: ", pf.status().message()));
      m->pixel_format = *pf;
      m->wire.assign(b);
      return absl::OkStatus();
    }
    case kSetEncodings: {
      m->type = ClientMessage::Type::kSetEncodings;
      const size_t n = U16(b, 2);
      for (size_t i = 0; i < n; ++i) {
        const auto e = static_cast<int32_t>(U32(b, 4 + 4 * i));
        if (EncodingAllowed(e)) {
          m->encodings.push_back(e);
        } else {
          ++m->encodings_dropped;
        }
      }
      m->wire.reserve(4 + 4 * m->encodings.size());
      m->wire.push_back(static_cast<char>(kSetEncodings));
      m->wire.push_back('\0');
      PutU16(m->wire, static_cast<uint16_t>(m->encodings.size()));
      for (int32_t e : m->encodings) PutU32(m->wire, static_cast<uint32_t>(e));
      return absl::OkStatus();
    }
    case kUpdateRequest:
      m->type = ClientMessage::Type::kUpdateRequest;
      m->incremental = U8(b, 1) != 0;
      m->x = U16(b, 2);
      m->y = U16(b, 4);
      m->w = U16(b, 6);
      m->h = U16(b, 8);
      break;
    case kKeyEvent:
      m->type = ClientMessage::Type::kKey;
      m->down = U8(b, 1) != 0;
      m->keysym = U32(b, 4);
      break;
    case kPointerEvent:
      m->type = ClientMessage::Type::kPointer;
      m->button_mask = U8(b, 1);
      m->x = U16(b, 2);
      m->y = U16(b, 4);
      break;
    case kClientCutText:
      m->type = ClientMessage::Type::kCutText;
      m->text.assign(b.substr(8));
      break;
    case kSetDesktopSize:
      m->type = ClientMessage::Type::kSetDesktopSize;
      m->width = U16(b, 2);
      m->height = U16(b, 4);
      if (m->width == 0 || m->height == 0) return absl::InvalidArgumentError("SetDesktopSize: empty size");
      break;
  }
  m->wire.assign(b);
  return absl::OkStatus();
}

}  // namespace

ClientMessageParser::ClientMessageParser(ClientLimits limits) : limits_(limits) {}

absl::Status ClientMessageParser::Feed(std::string_view bytes, std::vector<ClientMessage>* out) {
  if (dead_) return absl::FailedPreconditionError("viewer stream already refused");
  auto fail = [this](absl::Status s) {
    dead_ = true;
    pending_.clear();
    return s;
  };
  size_t need = 0;
  while (true) {
    if (pending_.empty()) {
      // Whole messages straight from the input; only a tail is copied.
      if (bytes.empty()) return absl::OkStatus();
      if (absl::Status s = MessageSize(bytes, limits_, &need); !s.ok()) return fail(s);
      if (need > bytes.size()) {
        pending_.assign(bytes);
        return absl::OkStatus();
      }
      ClientMessage m;
      if (absl::Status s = Decode(bytes.substr(0, need), &m); !s.ok()) return fail(s);
      out->push_back(std::move(m));
      bytes.remove_prefix(need);
      continue;
    }
    if (absl::Status s = MessageSize(pending_, limits_, &need); !s.ok()) return fail(s);
    if (need > pending_.size()) {
      const size_t take = std::min(need - pending_.size(), bytes.size());
      pending_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (pending_.size() < need) {
        if (bytes.empty()) return absl::OkStatus();
        continue;  // the header grew: the size may now be known
      }
      if (absl::Status s = MessageSize(pending_, limits_, &need); !s.ok()) return fail(s);
      if (need > pending_.size()) continue;
    }
    ClientMessage m;
    if (absl::Status s = Decode(pending_, &m); !s.ok()) return fail(s);
    out->push_back(std::move(m));
    pending_.clear();
  }
}

}  // namespace portcullis::agentless::rfb
