#pragma once
// VNC authentication's DES (RFB 3.8 section 7.2.2, "VNC Authentication"):
// the server sends a 16-byte challenge, the viewer answers with the
// challenge encrypted by DES in ECB mode (each 8-byte half on its own)
// under a key made of the first 8 bytes of the password, zero-padded, with
// the bits of each byte reversed (VNC's historical quirk).
//
// DES is only in OpenSSL 3's "legacy" provider. It is loaded into a private
// OSSL_LIB_CTX owned by this module, never into the default context, so
// nothing else in the process can reach DES by accident. Thread-safe: the
// context and the fetched cipher are created once; each call uses its own
// cipher context.

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis {

using VncChallenge = std::array<uint8_t, 16>;

// The 8-byte DES key VNC derives from `password`: its first 8 bytes (NUL
// padded when shorter; the rest ignored), each byte bit-reversed.
std::array<uint8_t, 8> VncDesKey(std::string_view password);

// The response a viewer sends for `challenge` with `password`. Unavailable
// if the legacy provider cannot be loaded (e.g. ossl-modules/legacy.so is
// missing); the message says so and never quotes the password.
[[nodiscard]] absl::StatusOr<VncChallenge> VncAuthResponse(std::string_view password,
                                                          const VncChallenge& challenge);

// OK iff DES-ECB can be fetched from the private legacy context (the broker
// checks this at start, so a missing module fails loudly and early).
[[nodiscard]] absl::Status VncDesAvailable();

}  // namespace portcullis
