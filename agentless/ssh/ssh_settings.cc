#include "agentless/ssh/ssh_settings.h"

#include <mutex>

#include "agentless/ssh/libssh_handles.h"
#include "broker/common/encoding.h"

namespace portcullis::ssh {
namespace {

// AES-GCM first: AES-NI makes it the fastest AEAD on the relay's hot path.
constexpr char kModernKex[] =
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
    "ecdh-sha2-nistp521,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512";
constexpr char kModernCiphers[] =
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
    "aes256-ctr,aes192-ctr,aes128-ctr";
constexpr char kModernMacs[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512";
constexpr char kModernHostKeys[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,"
    "rsa-sha2-256";

}  // namespace

std::string KeyBlob(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || b64 == nullptr) return {};
  auto blob = Base64Decode(b64);
  ssh_string_free_char(b64);
  return blob.ok() ? *blob : std::string();
}

void EnsureLibsshInitialised() {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });
}

AlgorithmSet ListenerAlgorithms() {
  return AlgorithmSet{kModernKex, kModernCiphers, kModernMacs, "ssh-ed25519"};
}

AlgorithmSet TargetAlgorithms(const std::string& crypto_profile) {
  AlgorithmSet a{kModernKex, kModernCiphers, kModernMacs, kModernHostKeys};
  if (crypto_profile == "legacy") {
    a.kex += ",diffie-hellman-group14-sha256,diffie-hellman-group14-sha1,"
             "diffie-hellman-group1-sha1";
    a.ciphers += ",aes256-cbc,aes192-cbc,aes128-cbc,3des-cbc";
    a.macs += ",hmac-sha1";
    a.host_keys += ",ssh-rsa";
  }
  return a;
}

}  // namespace portcullis::ssh
