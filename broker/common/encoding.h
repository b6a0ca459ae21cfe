#pragma once
// Text encodings of binary data. Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis {

std::string Base64Encode(std::string_view bytes);  // standard, padded
[[nodiscard]] absl::StatusOr<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);  // unpadded
std::string HexEncode(std::string_view bytes);         // lowercase
[[nodiscard]] absl::StatusOr<std::string> HexDecode(std::string_view text);
std::string Base32Encode(std::string_view bytes);  // RFC 4648, unpadded
// SHA-256 of `data`, raw 32 bytes.
std::string Sha256(std::string_view data);
// Cryptographically random bytes (aborts if the CSPRNG fails).
std::string RandomBytes(size_t n);

}  // namespace portcullis
