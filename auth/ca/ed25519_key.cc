#include "auth/ca/ed25519_key.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "auth/ca/ssh_public_key.h"
#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "broker/common/files.h"

namespace portcullis::ca {
namespace {

constexpr size_t kMaxOpenSshComment = 256;
constexpr std::string_view kOpenSshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
constexpr std::string_view kOpenSshEnd = "-----END OPENSSH PRIVATE KEY-----\n";
constexpr size_t kOpenSshLineLength = 70;  // as ssh-keygen wraps it

// Never prompt for a PEM passphrase: encrypted keys simply fail to load.
int NoPassphrase(char*, int, int, void*) { return -1; }

// Appends SSH wire fields into a SecretBytes of fixed capacity, so key
// material is never reallocated into unwiped memory.
class SecretWriter {
 public:
  explicit SecretWriter(size_t capacity) { buf_.Resize(capacity); }
  void Raw(std::string_view bytes) {
    if (bytes.size() > buf_.size() - pos_) std::abort();  // capacity is computed exactly
    std::memcpy(buf_.data() + pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
  }
  void U32(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    Raw(std::string_view(b, 4));
  }
  void String(std::string_view bytes) {
    U32(static_cast<uint32_t>(bytes.size()));
    Raw(bytes);
  }
  size_t size() const { return pos_; }
  SecretBytes Finish() {
    buf_.Resize(pos_);
    return std::move(buf_);
  }

 private:
  SecretBytes buf_;
  size_t pos_ = 0;
};

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

Ed25519Key Ed25519Key::Generate() {
  EvpPkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (pkey == nullptr) std::abort();  // OpenSSL without Ed25519 or a dead RNG
  return Ed25519Key(std::move(pkey));
}

absl::StatusOr<Ed25519Key> Ed25519Key::FromPrivatePem(const SecretBytes& pem) {
  if (pem.empty()) return absl::InvalidArgumentError("empty private key PEM");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("not an unencrypted PKCS#8 PEM private key");
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("private key is not Ed25519");
  }
  return Ed25519Key(std::move(pkey));
}

absl::StatusOr<Ed25519Key> Ed25519Key::LoadPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(fmt::format("no such key file: {}", path));
    return absl::PermissionDeniedError(
        fmt::format("cannot open key file {}: {}", path, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(fmt::format("{} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::PermissionDeniedError(
        fmt::format("key file {} has mode {:04o}; it must not be accessible by group or others",
                    path, st.st_mode & 07777));
  }
  SecretBytes pem;
  pem.Resize(SecretBytes::kMaxSize + 1);
  size_t got = 0;
  while (got < pem.size()) {
    ssize_t n = ::read(fd, pem.data() + got, pem.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return absl::InternalError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > SecretBytes::kMaxSize) {
    return absl::InvalidArgumentError(fmt::format("key file {} is too large", path));
  }
  pem.Resize(got);
  auto key = FromPrivatePem(pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: {}", path, std::string(key.status().message())));
  }
  return key;
}

absl::Status Ed25519Key::SavePrivateFile(const std::string& path) const {
  SecretBytes pem = PrivatePem();
  return WriteFileAtomic(path, pem.Reveal(), 0600, /*exclusive=*/true);
}

SecretBytes Ed25519Key::PrivatePem() const {
  // The secure-memory BIO wipes its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    std::abort();  // only fails on allocation failure
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto out = SecretBytes::FromString(std::string_view(data, static_cast<size_t>(len)));
  if (!out.ok()) std::abort();  // an Ed25519 PEM is ~120 bytes
  return std::move(out).value();
}

std::string Ed25519Key::PublicRaw() const {
  std::string raw(kEd25519PublicSize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey_.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                  &len) != 1 ||
      len != kEd25519PublicSize) {
    std::abort();
  }
  return raw;
}

std::string Ed25519Key::PublicBlob() const {
  return WireWriter().String(kSshEd25519).String(PublicRaw()).Take();
}

std::string Ed25519Key::AuthorizedKeyLine(std::string_view comment) const {
  std::string line = fmt::format("{} {}", kSshEd25519, Base64Encode(PublicBlob()));
  if (!comment.empty()) line += fmt::format(" {}", comment);
  return line;
}

SecretBytes Ed25519Key::OpenSshPrivateKey(std::string_view comment) const {
  comment = comment.substr(0, kMaxOpenSshComment);
  const std::string pub = PublicRaw();
  const std::string pub_blob = PublicBlob();

  SecretBytes seed;
  seed.Resize(32);
  size_t seed_len = seed.size();
  if (EVP_PKEY_get_raw_private_key(pkey_.get(), seed.data(), &seed_len) != 1 || seed_len != 32) {
    std::abort();
  }

  // Private section (PROTOCOL.key): checkint x2, key (type, pk, sk=seed||pk),
  // comment, then padding 1,2,3... to the "none" cipher's block size of 8.
  const size_t priv_len = 8 + (4 + kSshEd25519.size()) + (4 + 32) + (4 + 64) + (4 + comment.size());
  const size_t padded_len = (priv_len + 7) / 8 * 8;
  SecretWriter priv(padded_len);
  std::string check = RandomBytes(4);
  priv.Raw(check);
  priv.Raw(check);
  priv.String(kSshEd25519);
  priv.String(pub);
  priv.U32(64);
  priv.Raw(seed.Reveal());
  priv.Raw(pub);
  priv.String(comment);
  for (uint8_t pad = 1; priv.size() < padded_len; ++pad) {
    priv.Raw(std::string_view(reinterpret_cast<const char*>(&pad), 1));
  }
  SecretBytes priv_bytes = priv.Finish();

  constexpr std::string_view kMagic("openssh-key-v1\0", 15);
  const size_t total =
      kMagic.size() + (4 + 4) + (4 + 4) + 4 + 4 + (4 + pub_blob.size()) + (4 + priv_bytes.size());
  SecretWriter enc(total);
  enc.Raw(kMagic);
  enc.String("none");  // cipher
  enc.String("none");  // kdf
  enc.String("");      // kdf options
  enc.U32(1);          // number of keys
  enc.String(pub_blob);
  enc.String(priv_bytes.Reveal());
  SecretBytes encoded = enc.Finish();

  SecretBytes b64;
  b64.Resize(4 * ((encoded.size() + 2) / 3) + 1);
  int b64_len = EVP_EncodeBlock(b64.data(), encoded.data(), static_cast<int>(encoded.size()));
  if (b64_len < 0) std::abort();
  const size_t lines = (static_cast<size_t>(b64_len) + kOpenSshLineLength - 1) / kOpenSshLineLength;
  SecretWriter out(kOpenSshBegin.size() + static_cast<size_t>(b64_len) + lines +
                   kOpenSshEnd.size());
  out.Raw(kOpenSshBegin);
  std::string_view text(reinterpret_cast<const char*>(b64.data()), static_cast<size_t>(b64_len));
  for (size_t i = 0; i < text.size(); i += kOpenSshLineLength) {
    out.Raw(text.substr(i, kOpenSshLineLength));
    out.Raw("\n");
  }
  out.Raw(kOpenSshEnd);
  return out.Finish();
}

absl::StatusOr<std::string> Ed25519Key::Sign(std::string_view data) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return absl::InternalError("EVP_MD_CTX_new failed");
  // Ed25519 is used without a separate digest: md must be NULL.
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("EVP_DigestSignInit failed");
  }
  std::string sig(kEd25519SignatureSize, '\0');
  size_t sig_len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      sig_len != kEd25519SignatureSize) {
    ERR_clear_error();
    return absl::InternalError("Ed25519 signing failed");
  }
  return sig;
}

absl::Status VerifyEd25519(std::string_view public_raw, std::string_view data,
                           std::string_view signature) {
  if (public_raw.size() != kEd25519PublicSize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  if (signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError("Ed25519 signature must be 64 bytes");
  }
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_raw.data()),
      public_raw.size()));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (pkey == nullptr || ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("unusable Ed25519 public key");
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  ERR_clear_error();
  if (rc != 1) return absl::PermissionDeniedError("Ed25519 signature does not verify");
  return absl::OkStatus();
}

absl::StatusOr<std::string> Ed25519RawFromBlob(std::string_view blob) {
  BoundedReader r(blob, 1024);
  auto type = r.String(64);
  if (!type.ok()) return absl::InvalidArgumentError("malformed public key blob: bad key type");
  if (*type != kSshEd25519) {
    return absl::InvalidArgumentError(
        fmt::format("unsupported public key type \"{}\" (only ssh-ed25519)", Printable(*type)));
  }
  auto raw = r.String(kEd25519PublicSize);
  if (!raw.ok() || raw->size() != kEd25519PublicSize) {
    return absl::InvalidArgumentError("malformed ssh-ed25519 blob: key must be 32 bytes");
  }
  if (!r.Finish().ok()) {
    return absl::InvalidArgumentError("malformed ssh-ed25519 blob: trailing bytes");
  }
  return std::string(*raw);
}

absl::StatusOr<SshPublicKey> ParsePublicKeyLine(std::string_view line) {
  if (line.size() > kMaxPublicKeyLineBytes) {
    return absl::InvalidArgumentError("public key line too long");
  }
  if (!line.empty() && line.front() == '\0') {
    auto raw = Ed25519RawFromBlob(line);
    if (!raw.ok()) return raw.status();
    return SshPublicKey{std::string(kSshEd25519), std::string(line), ""};
  }
  auto fields = SplitPublicKeyLine(line);
  if (!fields.ok()) return fields.status();
  std::string_view type = fields->type;
  std::string_view b64 = fields->data;
  std::string_view comment = fields->comment;
  if (type != kSshEd25519) {
    if (type.find("-cert-v01@openssh.com") != std::string_view::npos) {
      return absl::InvalidArgumentError("expected a public key, got a certificate");
    }
    return absl::InvalidArgumentError(
        fmt::format("unsupported public key type \"{}\" (only ssh-ed25519)", Printable(type)));
  }
  if (b64.empty()) return absl::InvalidArgumentError("public key line has no key data");
  auto blob = Base64Decode(b64);
  if (!blob.ok()) return absl::InvalidArgumentError("public key data is not valid base64");
  auto raw = Ed25519RawFromBlob(*blob);
  if (!raw.ok()) return raw.status();
  return SshPublicKey{std::string(type), std::move(blob).value(), std::string(comment)};
}

std::string Fingerprint(std::string_view blob) {
  std::string b64 = Base64Encode(Sha256(blob));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

}  // namespace portcullis::ca
