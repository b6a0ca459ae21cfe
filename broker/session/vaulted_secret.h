#pragma once
// VaultedSecret: a target secret (a password or an SSH private key) as the
// Authority hands it to protocol code at connect time. Move-only
// (SecretBytes); the secret is wiped when this is destroyed.

#include <string>

#include "broker/common/secret.h"

namespace portcullis::session {

enum class SecretKind { kPassword, kKey };

struct VaultedSecret {
  SecretKind kind = SecretKind::kPassword;
  std::string domain;  // RDP; "" otherwise
  SecretBytes secret;  // the password, or the private key file's text
};

}  // namespace portcullis::session
