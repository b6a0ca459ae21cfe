#pragma once
// The binding a login certificate carries to the user it was issued for:
// the user name, the store's user id and the user's login generation,
// written by the broker into the certificate's key id as
//   portcullis-login:<user>/u<id>/g<generation>
// (decimal, no leading zeros). The broker's SSH listener reads it back from
// a certificate whose signature it has verified and accepts the certificate
// only while id and generation are the user's current ones, so a deleted,
// re-created, disabled or reset user's old certificates stop working.
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::ca {

inline constexpr std::string_view kLoginKeyIdPrefix = "portcullis-login:";

struct LoginBinding {
  std::string user;
  int64_t user_id = 0;     // >= 1
  int64_t generation = 0;  // >= 1
};

// The key id for `b`. `b.user` must not contain '/' (user names never do).
std::string LoginKeyId(const LoginBinding& b);

// Parses a key id written by LoginKeyId. InvalidArgument for anything else
// (including key ids of certificates issued before bindings existed).
[[nodiscard]] absl::StatusOr<LoginBinding> ParseLoginKeyId(std::string_view key_id);

}  // namespace portcullis::ca
