#include "auth/identity/password.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <sys/mman.h>

#include <cstddef>
#include <string>

#include <fmt/format.h>

#include "auth/identity/argon2_phc.h"
#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "broker/common/status_macros.h"

namespace portcullis::auth {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kTagBytes = 32;
constexpr size_t kMinPasswordBytes = 12;
constexpr size_t kMaxPasswordBytes = 1024;

// Length of the UTF-8 sequence starting with lead byte `c` (input already
// validated as UTF-8).
size_t Utf8SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  return 4;
}

// True if `s` is one code point repeated (s non-empty, valid UTF-8).
bool IsOneRepeatedCharacter(std::string_view s) {
  size_t n = Utf8SequenceLength(static_cast<unsigned char>(s[0]));
  if (s.size() % n != 0) return false;
  std::string_view first = s.substr(0, n);
  for (size_t i = n; i < s.size(); i += n) {
    if (s.substr(i, n) != first) return false;
  }
  return true;
}

// A well-formed PHC string with the default costs. Its tag matches no
// password (it is not the hash of anything we know), so verifying against
// it runs the full Argon2id computation and then fails.
const std::string& DummyHash() {
  static const std::string* const kDummy = [] {
    Argon2Params d;
    return new std::string(fmt::format(
        "$argon2id$v=19$m={},t={},p={}$UG9ydGN1bGxpcy1kdW1teQ$"
        "ZHVtbXktdGFnLWZvci11bmtub3duLXVzZXJzLXRpbSE",
        d.m_cost_kib, d.t_cost, d.parallelism));
  }();
  return *kDummy;
}

// Argon2's working memory (m_cost KiB per verification) comes straight from
// mmap and goes straight back to the kernel when the verification ends
// (libargon2 wipes it first). From malloc, glibc would keep blocks of this
// size cached in its per-thread arenas, so a burst of logins on many threads
// would leave the broker that much bigger for good.
int MapArgon2Memory(uint8_t** memory, size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *memory = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  return *memory == nullptr ? ARGON2_MEMORY_ALLOCATION_ERROR : ARGON2_OK;
}

void UnmapArgon2Memory(uint8_t* memory, size_t bytes) { ::munmap(memory, bytes); }

// Unpadded standard base64 (as in PHC strings).
absl::StatusOr<std::string> DecodePhcBase64(std::string_view text) {
  std::string padded(text);
  padded.append((4 - padded.size() % 4) % 4, '=');
  return Base64Decode(padded);
}

}  // namespace

absl::StatusOr<std::string> HashPassword(const SecretBytes& password,
                                         const Argon2Params& params) {
  PC_RETURN_IF_ERROR(CheckArgon2Costs(params.m_cost_kib, params.t_cost, params.parallelism));
  std::string salt = RandomBytes(kSaltBytes);
  size_t encoded_len = argon2_encodedlen(params.t_cost, params.m_cost_kib, params.parallelism,
                                         kSaltBytes, kTagBytes, Argon2_id);
  std::string encoded(encoded_len, '\0');
  int rc = argon2id_hash_encoded(params.t_cost, params.m_cost_kib, params.parallelism,
                                 password.data(), password.size(), salt.data(), salt.size(),
                                 kTagBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(
        fmt::format("argon2id hashing failed: {}", argon2_error_message(rc)));
  }
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size()
                                                         : encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view encoded, const SecretBytes& password) {
  // Shape and cost bounds first: libargon2 would otherwise happily allocate
  // whatever m= says.
  auto header = ParseArgon2idPhc(encoded);
  if (!header.ok()) return false;
  // The parser checked the shape: the salt and the tag are the last two
  // '$'-separated fields.
  const size_t tag_at = encoded.rfind('$');
  const size_t salt_at = encoded.rfind('$', tag_at - 1);
  auto salt = DecodePhcBase64(encoded.substr(salt_at + 1, tag_at - salt_at - 1));
  auto tag = DecodePhcBase64(encoded.substr(tag_at + 1));
  if (!salt.ok() || !tag.ok() || tag->size() < ARGON2_MIN_OUTLEN || tag->size() > 64) return false;
  std::string out(tag->size(), '\0');
  argon2_context ctx{};
  ctx.out = reinterpret_cast<uint8_t*>(out.data());
  ctx.outlen = static_cast<uint32_t>(out.size());
  ctx.pwd = const_cast<uint8_t*>(password.data());  // not written: no CLEAR_PASSWORD flag
  ctx.pwdlen = static_cast<uint32_t>(password.size());
  ctx.salt = reinterpret_cast<uint8_t*>(salt->data());
  ctx.saltlen = static_cast<uint32_t>(salt->size());
  ctx.t_cost = header->t_cost;
  ctx.m_cost = header->m_cost_kib;
  ctx.lanes = header->parallelism;
  ctx.threads = header->parallelism;
  ctx.version = ARGON2_VERSION_13;
  ctx.allocate_cbk = MapArgon2Memory;
  ctx.free_cbk = UnmapArgon2Memory;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  const bool ok = argon2id_ctx(&ctx) == ARGON2_OK &&
                  CRYPTO_memcmp(out.data(), tag->data(), out.size()) == 0;  // constant time
  OPENSSL_cleanse(out.data(), out.size());
  return ok;
}

void BurnPasswordVerification(const SecretBytes& password) {
  (void)VerifyPassword(DummyHash(), password);
}

absl::Status CheckPasswordAcceptable(const SecretBytes& password) {
  if (password.size() < kMinPasswordBytes) {
    return absl::InvalidArgumentError(
        fmt::format("password too short: at least {} bytes required", kMinPasswordBytes));
  }
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        fmt::format("password too long: at most {} bytes allowed", kMaxPasswordBytes));
  }
  if (!IsValidUtf8(password.Reveal())) {
    return absl::InvalidArgumentError("password is not valid UTF-8");
  }
  if (IsOneRepeatedCharacter(password.Reveal())) {
    return absl::InvalidArgumentError("password must not be a single repeated character");
  }
  return absl::OkStatus();
}

}  // namespace portcullis::auth
