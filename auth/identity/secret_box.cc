#include "auth/identity/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "broker/common/openssl_handles.h"

namespace portcullis::auth {
namespace {

absl::Status AuthFailed() {
  return absl::DataLossError("sealed secret failed authentication");
}

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

absl::Status SecretBox::CreateKeyFile(const std::string& path) {
  SecretBytes key = SecretBytes::Random(kKeySize);
  return WriteFileAtomic(path, key.Reveal(), 0600, /*exclusive=*/true);
}

absl::StatusOr<SecretBox> SecretBox::LoadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(fmt::format("no key file at {}", path));
    return absl::PermissionDeniedError(
        fmt::format("cannot open key file {}: {}", path, std::strerror(errno)));
  }
  FdCloser closer(fd);
  // Check the file we opened, not the path, so a swap cannot slip past.
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(
        fmt::format("cannot stat key file {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(fmt::format("key file {} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(fmt::format(
        "key file {} has mode {:04o}: it must not be readable or writable by group or others; "
        "run: chmod 600 {}",
        path, st.st_mode & 07777, path));
  }
  // Read at most one byte more than a key, straight into secret storage.
  SecretBytes key;
  key.Resize(kKeySize + 1);
  size_t got = 0;
  while (got < key.size()) {
    ssize_t n = ::read(fd, key.data() + got, key.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          fmt::format("cannot read key file {}: {}", path, std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != kKeySize) {
    return absl::InvalidArgumentError(
        fmt::format("key file {} is {} bytes; a SecretBox key file must be exactly {} bytes",
                    path, static_cast<long long>(st.st_size), kKeySize));
  }
  key.Resize(kKeySize);
  return SecretBox(std::move(key));
}

SecretBox SecretBox::FromKey(SecretBytes key) {
  if (key.size() != kKeySize) std::abort();  // caller bug
  return SecretBox(std::move(key));
}

absl::StatusOr<std::string> SecretBox::Seal(const SecretBytes& plaintext,
                                            std::string_view aad) const {
  if (key_.size() != kKeySize) return absl::FailedPreconditionError("SecretBox has no key");
  if (aad.size() > kMaxAadSize) return absl::InvalidArgumentError("SecretBox aad too long");
  if (plaintext.size() > SecretBytes::kMaxSize) {
    return absl::InvalidArgumentError("secret too long to seal");
  }
  std::string nonce = RandomBytes(kNonceSize);
  std::string out;
  out.reserve(kOverhead + plaintext.size());
  out.push_back(static_cast<char>(kFormatVersion));
  out += nonce;
  const size_t ct_offset = out.size();
  out.resize(ct_offset + plaintext.size() + kTagSize);
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + ct_offset);

  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(),
                         reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      (plaintext.empty() ||
       (EVP_EncryptUpdate(ctx.get(), ct, &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) == 1 &&
        static_cast<size_t>(len) == plaintext.size())) &&
      EVP_EncryptFinal_ex(ctx.get(), ct + plaintext.size(), &len) == 1 && len == 0 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, ct + plaintext.size()) == 1;
  if (!ok) return absl::InternalError("AES-256-GCM encryption failed");
  return out;
}

absl::StatusOr<SecretBytes> SecretBox::Open(std::string_view sealed, std::string_view aad) const {
  if (key_.size() != kKeySize) return absl::FailedPreconditionError("SecretBox has no key");
  if (aad.size() > kMaxAadSize) return absl::InvalidArgumentError("SecretBox aad too long");
  if (sealed.size() < kOverhead || sealed.size() > kOverhead + SecretBytes::kMaxSize ||
      static_cast<unsigned char>(sealed[0]) != kFormatVersion) {
    return AuthFailed();
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data() + 1);
  const auto* ct = nonce + kNonceSize;
  const size_t ct_len = sealed.size() - kOverhead;
  // The tag is passed to OpenSSL through a non-const pointer; copy it.
  unsigned char tag[kTagSize];
  std::memcpy(tag, ct + ct_len, kTagSize);

  SecretBytes plain;
  plain.Resize(ct_len);
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  unsigned char final_block[16];
  bool ok =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      // With an empty secret there is no ciphertext to decrypt (and a null
      // output pointer would make OpenSSL treat the call as more AAD).
      (ct_len == 0 ||
       (EVP_DecryptUpdate(ctx.get(), plain.data(), &len, ct, static_cast<int>(ct_len)) == 1 &&
        static_cast<size_t>(len) == ct_len)) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), final_block, &len) == 1;
  if (!ok) return AuthFailed();  // `plain` is wiped by its destructor
  return plain;
}

}  // namespace portcullis::auth
