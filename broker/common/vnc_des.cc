#include "broker/common/vnc_des.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include <mutex>

#include "broker/common/openssl_handles.h"

namespace portcullis {
namespace {

// The private library context with the legacy provider, and DES-ECB fetched
// from it. Created on first use; lives for the process (OpenSSL frees
// providers at exit).
struct LegacyDes {
  OSSL_LIB_CTX* ctx = nullptr;
  OSSL_PROVIDER* legacy = nullptr;
  EVP_CIPHER* des_ecb = nullptr;
};

const LegacyDes& Legacy() {
  static const LegacyDes des = [] {
    LegacyDes d;
    d.ctx = OSSL_LIB_CTX_new();
    if (d.ctx == nullptr) return d;
    d.legacy = OSSL_PROVIDER_load(d.ctx, "legacy");
    if (d.legacy == nullptr) return d;
    d.des_ecb = EVP_CIPHER_fetch(d.ctx, "DES-ECB", nullptr);
    return d;
  }();
  return des;
}

uint8_t ReverseBits(uint8_t b) {
  uint8_t r = 0;
  for (int i = 0; i < 8; ++i) {
    r = static_cast<uint8_t>((r << 1) | (b & 1));
    b = static_cast<uint8_t>(b >> 1);
  }
  return r;
}

}  // namespace

std::array<uint8_t, 8> VncDesKey(std::string_view password) {
  std::array<uint8_t, 8> key{};
  for (size_t i = 0; i < key.size() && i < password.size(); ++i)
    key[i] = ReverseBits(static_cast<uint8_t>(password[i]));
  return key;
}

absl::Status VncDesAvailable() {
  if (Legacy().des_ecb == nullptr) {
    return absl::UnavailableError(
        "DES for VNC authentication is unavailable: OpenSSL's legacy provider "
        "(ossl-modules/legacy.so) could not be loaded");
  }
  return absl::OkStatus();
}

absl::StatusOr<VncChallenge> VncAuthResponse(std::string_view password,
                                            const VncChallenge& challenge) {
  if (auto st = VncDesAvailable(); !st.ok()) return st;
  std::array<uint8_t, 8> key = VncDesKey(password);
  EvpCipherCtxPtr c(EVP_CIPHER_CTX_new());
  VncChallenge out{};
  int n1 = 0, n2 = 0;
  const bool ok =
      c != nullptr && EVP_EncryptInit_ex2(c.get(), Legacy().des_ecb, key.data(), nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_set_padding(c.get(), 0) == 1 &&
      EVP_EncryptUpdate(c.get(), out.data(), &n1, challenge.data(),
                        static_cast<int>(challenge.size())) == 1 &&
      EVP_EncryptFinal_ex(c.get(), out.data() + n1, &n2) == 1 && n1 + n2 == 16;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return absl::InternalError("DES for VNC authentication failed");
  }
  return out;
}

}  // namespace portcullis
