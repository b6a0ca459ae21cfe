// Fuzzes the broker's client side of the RFB handshake with a VeNCrypt
// target (agentless/vnc/vencrypt.h): the input is everything the target
// sends, read through a memory channel. Its first byte picks the phase
// and the credential: the clear negotiation (with or without a password),
// then, from the same remaining bytes, what follows inside TLS (X509Vnc
// or X509None).
// Properties: a negotiation only succeeds with the subtype it asked for;
// what the broker wrote never contains the password; a ServerInit's name
// never exceeds the bound; the handshake never reads past the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "agentless/vnc/vencrypt.h"

namespace {

constexpr char kPassword[] = "Fz-Secret";

class MemoryChannel final : public portcullis::vnc::ByteChannel {
 public:
  explicit MemoryChannel(std::string_view in) : in_(in) {}
  absl::Status ReadExact(void* buf, size_t n) override {
    if (n > in_.size() - pos_) return absl::UnavailableError("end of input");
    std::memcpy(buf, in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status WriteAll(std::string_view bytes) override {
    written_.append(bytes);
    return absl::OkStatus();
  }
  const std::string& written() const { return written_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string written_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool with_password = (mode & 1) != 0;
  static const auto password = portcullis::SecretBytes::FromString(kPassword);
  if ((mode & 2) == 0) {
    MemoryChannel ch(input);
    auto subtype = portcullis::vnc::NegotiateVeNCrypt(ch, with_password);
    if (subtype.ok()) {
      const uint32_t want = with_password ? portcullis::vnc::kVeNCryptX509Vnc
                                          : portcullis::vnc::kVeNCryptX509None;
      if (*subtype != want) abort();
    }
    if (ch.written().find(kPassword) != std::string::npos) abort();
  } else {
    MemoryChannel ch(input);
    auto si = portcullis::vnc::FinishHandshake(
        ch,
        with_password ? portcullis::vnc::kVeNCryptX509Vnc : portcullis::vnc::kVeNCryptX509None,
        with_password ? &*password : nullptr);
    if (si.ok() && si->name.size() > 65536) abort();
    if (ch.written().find(kPassword) != std::string::npos) abort();
  }
  return 0;
}
