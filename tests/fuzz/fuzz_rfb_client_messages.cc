// Fuzzes the RFB viewer-message parser. The first byte seeds how the rest
// is split into Feed calls. Properties: any split gives the same messages
// and the same verdict as one Feed; every message's wire bytes parse back
// to one message of the same type; a rewritten SetEncodings keeps only
// allowed encodings and drops nothing more when parsed again.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agentless/vnc/rfb/client_messages.h"

namespace {

using portcullis::agentless::rfb::ClientLimits;
using portcullis::agentless::rfb::ClientMessage;
using portcullis::agentless::rfb::ClientMessageParser;
using portcullis::agentless::rfb::EncodingAllowed;

ClientLimits Limits() {
  ClientLimits l;
  l.max_encodings = 64;
  l.max_cut_text = 4096;
  l.max_screens = 4;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint32_t seed = data[0] * 2654435761u + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  ClientMessageParser whole(Limits());
  std::vector<ClientMessage> a;
  const bool ok_a = whole.Feed(input, &a).ok();

  ClientMessageParser split(Limits());
  std::vector<ClientMessage> b;
  bool ok_b = true;
  std::string_view rest = input;
  while (!rest.empty() && ok_b) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(rest.size(), 1 + (seed >> 16) % 23);
    ok_b = split.Feed(rest.substr(0, n), &b).ok();
    rest.remove_prefix(n);
  }
  if (ok_a != ok_b || a.size() != b.size()) __builtin_trap();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].wire != b[i].wire) __builtin_trap();
    ClientMessageParser again(Limits());
    std::vector<ClientMessage> c;
    if (!again.Feed(a[i].wire, &c).ok() || c.size() != 1 || c[0].type != a[i].type) __builtin_trap();
    if (a[i].type == ClientMessage::Type::kSetEncodings) {
      for (int32_t e : a[i].encodings) {
        if (!EncodingAllowed(e)) __builtin_trap();
      }
      if (c[0].encodings_dropped != 0 || c[0].encodings != a[i].encodings) __builtin_trap();
    }
  }
  return 0;
}
