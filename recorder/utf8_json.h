#pragma once
// JSON string bodies from raw terminal bytes. A terminal may emit anything:
// bytes that are not UTF-8, and multi-byte characters split across two
// reads. The escaper turns bytes into the body of a JSON string (no quotes)
// that is always valid UTF-8:
//  - valid UTF-8 passes through unchanged (no \u escapes for non-ASCII);
//  - '"', '\\' and control characters below U+0020 are escaped the way
//    Python's json.dumps does (\n, \r, \t, \b, \f, otherwise \u00XX);
//  - each maximal ill-formed subsequence becomes one U+FFFD, as Python's
//    UTF-8 decoder with errors="replace" does (what asciinema itself uses);
//  - an incomplete sequence at the end of one chunk is carried over and
//    completed by the next chunk (Utf8JsonEscaper only).
//
// Not thread-safe: one escaper per byte stream. No allocation besides
// growing `out`. Never throws.

#include <cstddef>
#include <string>
#include <string_view>

namespace portcullis::recorder {

// "\xEF\xBF\xBD", U+FFFD REPLACEMENT CHARACTER.
inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

class Utf8JsonEscaper {
 public:
  // Appends the escaped form of `bytes` to `out`. A trailing incomplete
  // sequence (at most 3 bytes) is held back for the next call.
  void Append(std::string_view bytes, std::string* out);
  // Ends the stream: a held-back incomplete sequence becomes U+FFFD.
  // Afterwards the escaper is fresh again.
  void Finish(std::string* out);
  // Bytes held back from the last Append.
  size_t carried() const { return carry_len_; }

 private:
  unsigned char carry_[4] = {};
  size_t carry_len_ = 0;
};

// Stateless: escapes a complete string; an incomplete sequence at the end
// becomes U+FFFD.
void AppendJsonEscaped(std::string_view bytes, std::string* out);

}  // namespace portcullis::recorder
