#include "recorder/utf8_json.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace portcullis::recorder {
namespace {

enum class SeqKind { kValid, kInvalid, kIncomplete };
struct Seq {
  SeqKind kind;
  size_t len;  // kValid: the sequence; kInvalid: the maximal ill-formed
               // subpart (>= 1); kIncomplete: the valid prefix (all of p).
};

// Classifies the sequence starting at p[0] >= 0x80 (Unicode 15, table 3-7).
Seq ScanMultibyte(const unsigned char* p, size_t n) {
  const unsigned char b0 = p[0];
  size_t need;                       // continuation bytes
  unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 == 0xE0) {
    need = 2;
    lo = 0xA0;
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    need = 2;
  } else if (b0 == 0xED) {  // no UTF-16 surrogates
    need = 2;
    hi = 0x9F;
  } else if (b0 == 0xF0) {
    need = 3;
    lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    need = 3;
  } else if (b0 == 0xF4) {  // nothing above U+10FFFF
    need = 3;
    hi = 0x8F;
  } else {
    return {SeqKind::kInvalid, 1};  // 80..C1, F5..FF
  }
  for (size_t i = 1; i <= need; ++i) {
    if (i >= n) return {SeqKind::kIncomplete, i};
    const unsigned char l = i == 1 ? lo : 0x80;
    const unsigned char h = i == 1 ? hi : 0xBF;
    if (p[i] < l || p[i] > h) return {SeqKind::kInvalid, i};
  }
  return {SeqKind::kValid, need + 1};
}

// Collects output in a small buffer and appends it to the string in
// blocks: an escape costs a few stores, not a string append.
class Sink {
 public:
  explicit Sink(std::string* out) : out_(out) {}
  ~Sink() { Flush(); }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  void Put(const char* p, size_t n) {
    if (n > sizeof buf_ - len_) {
      Flush();
      if (n > sizeof buf_ / 2) {
        out_->append(p, n);
        return;
      }
    }
    std::memcpy(buf_ + len_, p, n);
    len_ += n;
  }
  void Flush() {
    if (len_ > 0) out_->append(buf_, len_);
    len_ = 0;
  }
  // Appends the first `n` (<= 8) of the 8 bytes at `p8` with one store.
  void PutSmall(const char* p8, size_t n) {
    if (len_ + 8 > sizeof buf_) Flush();
    std::memcpy(buf_ + len_, p8, 8);
    len_ += n;
  }

 private:
  std::string* out_;
  size_t len_ = 0;
  char buf_[4096];
};

// What one byte becomes: itself, its JSON escape, or U+FFFD (a
// continuation byte with no lead, a byte never valid in UTF-8, or a lead
// not followed by a byte that can continue it).
struct ByteOut {
  char bytes[8];
  uint8_t len;
  // Leads (C2..F4): 1, and the range [lo, lo + span] of the byte that may
  // follow. A lead whose next byte is outside it is an ill-formed
  // subsequence of one byte: `bytes` holds U+FFFD for that case.
  uint8_t lead;
  uint8_t lo, span;
};
constexpr auto kByteOut = [] {
  struct Table {
    ByteOut v[256] = {};
  } t;
  constexpr char kHex[] = "0123456789abcdef";
  for (int c = 0; c < 256; ++c) {
    ByteOut& o = t.v[c];
    auto set = [&o](std::initializer_list<char> bytes) {
      o.len = 0;
      for (char b : bytes) o.bytes[o.len++] = b;
    };
    if (c >= 0xC2 && c <= 0xF4) {
      set({'\xEF', '\xBF', '\xBD'});
      o.lead = 1;
      const int lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
      const int hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
      o.lo = static_cast<uint8_t>(lo);
      o.span = static_cast<uint8_t>(hi - lo);
    } else if (c >= 0x80) {
      set({'\xEF', '\xBF', '\xBD'});
    } else if (c == '"') {
      set({'\\', '"'});
    } else if (c == '\\') {
      set({'\\', '\\'});
    } else if (c == '\b') {
      set({'\\', 'b'});
    } else if (c == '\f') {
      set({'\\', 'f'});
    } else if (c == '\n') {
      set({'\\', 'n'});
    } else if (c == '\r') {
      set({'\\', 'r'});
    } else if (c == '\t') {
      set({'\\', 't'});
    } else if (c < 0x20) {
      set({'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]});
    } else {
      set({static_cast<char>(c)});
    }
  }
  return t;
}();

// True if any of the 8 bytes in `w` is not copied verbatim: a control
// character (< 0x20), '"', '\\' or a byte >= 0x80. Word-at-a-time (SWAR),
// exact for the question "any?".
constexpr bool AnyNeedsWork(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  const bool high = (w & kHigh) != 0;
  // With no high bit set, a byte b < 0x20 borrows: (b - 0x20) has its high bit.
  const bool control = ((w - 0x20 * kOnes) & ~w & kHigh) != 0;
  return high || control || has_zero(w ^ ('"' * kOnes)) || has_zero(w ^ ('\\' * kOnes));
}

// Escapes p[0, n). Returns how many trailing bytes form an incomplete
// sequence that was not consumed (0 when `final`: they become U+FFFD).
// Printable ASCII and valid multi-byte sequences are copied in runs; clean
// ASCII is skipped eight bytes at a time.
size_t EscapeSpan(const unsigned char* p, size_t n, bool final, std::string* str) {
  Sink out(str);
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  auto flush = [&] { out.Put(reinterpret_cast<const char*>(p + run), i - run); };
  while (i < n) {
    if (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, sizeof w);
      if (!AnyNeedsWork(w)) {
        i += 8;
        continue;
      }
    }
    // At least one of the next bytes needs work: take them one at a time
    // before looking at a whole word again (binary output rarely has a
    // clean word, so checking after every byte would be wasted).
    // Each byte goes through a table (one store, no branch on its class),
    // except the lead of a possible multi-byte sequence.
    flush();
    const size_t stop = std::min(n, i + 8);
    while (i < stop) {
      const ByteOut& o = kByteOut.v[p[i]];
      // Only a lead whose next byte may continue it needs the scan; in
      // binary output that is rare, so the branch is predictable where a
      // branch on "is a lead" is not. The last bytes of the span (fewer
      // than a whole sequence) always take the scan.
      const bool scan =
          n - i < 4 ? o.lead != 0
                    : (o.lead & static_cast<unsigned>(static_cast<uint8_t>(p[i + 1] - o.lo) <=
                                                      o.span)) != 0;
      if (!scan) {
        out.PutSmall(o.bytes, o.len);
        ++i;
        continue;
      }
      const Seq s = ScanMultibyte(p + i, n - i);
      if (s.kind == SeqKind::kValid) {
        out.Put(reinterpret_cast<const char*>(p + i), s.len);
      } else {
        if (s.kind == SeqKind::kIncomplete && !final) return s.len;
        out.Put(kReplacementChar.data(), kReplacementChar.size());
      }
      i += s.len;
    }
    run = i;
  }
  flush();
  return 0;
}

}  // namespace

void Utf8JsonEscaper::Append(std::string_view bytes, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  if (n == 0) return;  // keep any held-back bytes
  if (carry_len_ > 0) {
    // Complete the held-back sequence with the first bytes of this chunk.
    unsigned char tmp[4];
    std::memcpy(tmp, carry_, carry_len_);
    const size_t take = std::min(sizeof tmp - carry_len_, n);
    std::memcpy(tmp + carry_len_, p, take);
    const Seq s = ScanMultibyte(tmp, carry_len_ + take);
    if (s.kind == SeqKind::kIncomplete) {  // still short: the chunk was tiny
      std::memcpy(carry_, tmp, s.len);
      carry_len_ = s.len;
      return;
    }
    out->append(s.kind == SeqKind::kValid ? std::string_view(reinterpret_cast<char*>(tmp), s.len)
                                          : kReplacementChar);
    // The held-back bytes were a valid prefix, so the sequence (or its
    // ill-formed subpart) reaches at least to their end.
    const size_t used = s.len > carry_len_ ? s.len - carry_len_ : 0;
    carry_len_ = 0;
    p += used;
    n -= used;
  }
  carry_len_ = EscapeSpan(p, n, /*final=*/false, out);
  if (carry_len_ > 0) std::memcpy(carry_, p + n - carry_len_, carry_len_);
}

void Utf8JsonEscaper::Finish(std::string* out) {
  if (carry_len_ > 0) out->append(kReplacementChar);
  carry_len_ = 0;
}

void AppendJsonEscaped(std::string_view bytes, std::string* out) {
  EscapeSpan(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), /*final=*/true,
             out);
}

}  // namespace portcullis::recorder
