#include "recorder/utf8_json.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

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

// Bytes copied verbatim: printable ASCII except '"' and '\\'.
constexpr auto kVerbatim = [] {
  struct Table {
    bool v[256] = {};
  } t;
  for (int c = 0x20; c < 0x80; ++c) t.v[c] = c != '"' && c != '\\';
  return t;
}();

void AppendEscapedAscii(unsigned char c, std::string* out) {
  switch (c) {
    case '"': out->append("\\\""); return;
    case '\\': out->append("\\\\"); return;
    case '\b': out->append("\\b"); return;
    case '\f': out->append("\\f"); return;
    case '\n': out->append("\\n"); return;
    case '\r': out->append("\\r"); return;
    case '\t': out->append("\\t"); return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(esc, sizeof esc);
    }
  }
}

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
size_t EscapeSpan(const unsigned char* p, size_t n, bool final, std::string* out) {
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  auto flush = [&] { out->append(reinterpret_cast<const char*>(p + run), i - run); };
  while (i < n) {
    if (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, sizeof w);
      if (!AnyNeedsWork(w)) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (kVerbatim.v[c]) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      flush();
      AppendEscapedAscii(c, out);
      run = ++i;
      continue;
    }
    const Seq s = ScanMultibyte(p + i, n - i);
    if (s.kind == SeqKind::kValid) {
      i += s.len;
      continue;
    }
    flush();
    if (s.kind == SeqKind::kIncomplete && !final) return s.len;
    out->append(kReplacementChar);
    i += s.len;
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
