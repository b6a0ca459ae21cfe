// Fuzzes the SFTP auditor with both directions of a session in random chunks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agentless/ssh/sftp_parser.h"

namespace {

// Splits the input into chunks for the two directions of a session: a
// control byte then its bytes; bit 0 = direction (0 client->server),
// bits 1..6 = length, bit 7 = length counts in units of 64 bytes.
template <typename Fn>
void ForEachChunk(std::string_view in, Fn fn) {
  while (!in.empty()) {
    const auto ctl = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    size_t len = (ctl >> 1) & 0x3f;
    if (ctl & 0x80) len *= 64;
    if (len > in.size()) len = in.size();
    if (!fn((ctl & 1) == 0, in.substr(0, len))) return;
    in.remove_prefix(len);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using portcullis::ssh::SftpAuditor;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  SftpAuditor auditor(SftpAuditor::Callbacks{
      [](const portcullis::ssh::FileTransferEvent& e) {
        if (e.complete != e.incomplete_reason.empty()) __builtin_trap();
        if (e.complete && e.sha256_hex.size() != 64) __builtin_trap();
      },
      [](const portcullis::ssh::FileOpEvent&) {},
      // Refuse some requests so the refusal path is exercised too.
      [](const portcullis::ssh::SftpRequest& r) { return r.path.size() % 3 != 1; }});
  ForEachChunk(input, [&](bool from_client, std::string_view chunk) {
    auto f = from_client ? auditor.FeedClientToServer(chunk) : auditor.FeedServerToClient(chunk);
    // Only whole, well-framed packets leave the auditor, even on an error.
    for (std::string_view p : from_client ? f.to_server : f.to_client) {
      if (p.size() < 5) __builtin_trap();
      const uint32_t len = (uint32_t{static_cast<uint8_t>(p[0])} << 24) | (uint32_t{static_cast<uint8_t>(p[1])} << 16) |
                           (uint32_t{static_cast<uint8_t>(p[2])} << 8) | static_cast<uint8_t>(p[3]);
      if (p.size() != 4 + size_t{len}) __builtin_trap();
    }
    if (!from_client && !f.to_server.empty()) __builtin_trap();
    return f.ok();
  });
  auditor.Finish();
  return 0;
}
