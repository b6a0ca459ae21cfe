#include "auth/ca/ssh_public_key.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <array>
#include <string>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "broker/common/openssl_handles.h"
#include "broker/common/printable.h"

namespace portcullis::ca {
namespace {

constexpr std::string_view kSshRsa = "ssh-rsa";

struct EcdsaCurve {
  std::string_view key_type;
  std::string_view ssh_name;  // the curve identifier inside the blob
  std::string_view openssl_group;
  size_t point_size;  // uncompressed: 0x04 || X || Y
};
constexpr std::array<EcdsaCurve, 3> kCurves = {{
    {"ecdsa-sha2-nistp256", "nistp256", "P-256", 65},
    {"ecdsa-sha2-nistp384", "nistp384", "P-384", 97},
    {"ecdsa-sha2-nistp521", "nistp521", "P-521", 133},
}};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

absl::Status Malformed(std::string_view type, std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("malformed {} key: {}", Printable(type), what));
}

// An SSH mpint that must be positive: no sign bit, no needless leading zero.
// Returns its size in bits.
absl::StatusOr<size_t> PositiveMpintBits(std::string_view m, std::string_view type,
                                         std::string_view field) {
  if (m.empty()) return Malformed(type, fmt::format("{} is zero", field));
  const auto first = static_cast<unsigned char>(m[0]);
  if (first & 0x80) return Malformed(type, fmt::format("{} is negative", field));
  if (first == 0) {
    if (m.size() == 1 || !(static_cast<unsigned char>(m[1]) & 0x80)) {
      return Malformed(type, fmt::format("{} has a needless leading zero", field));
    }
    m.remove_prefix(1);
  }
  size_t bits = (m.size() - 1) * 8;
  for (auto top = static_cast<unsigned char>(m[0]); top != 0; top >>= 1) ++bits;
  return bits;
}

absl::Status CheckRsa(BoundedReader& r) {
  auto e = r.String(kMaxRsaBits / 8 + 1);
  auto n = e.ok() ? r.String(kMaxRsaBits / 8 + 1) : e;
  if (!n.ok()) return Malformed(kSshRsa, "truncated or oversized");
  auto e_bits = PositiveMpintBits(*e, kSshRsa, "exponent");
  if (!e_bits.ok()) return e_bits.status();
  if (*e_bits < 2 || !(static_cast<unsigned char>(e->back()) & 1)) {
    return Malformed(kSshRsa, "exponent must be odd and at least 3");
  }
  auto n_bits = PositiveMpintBits(*n, kSshRsa, "modulus");
  if (!n_bits.ok()) return n_bits.status();
  if (*n_bits < kMinRsaBits) {
    return absl::InvalidArgumentError(fmt::format(
        "RSA key of {} bits refused: at least {} bits (ssh-keygen -t ed25519 is better)", *n_bits,
        kMinRsaBits));
  }
  if (*n_bits > kMaxRsaBits) {
    return absl::InvalidArgumentError(
        fmt::format("RSA key of {} bits refused: at most {} bits", *n_bits, kMaxRsaBits));
  }
  return absl::OkStatus();
}

// The point must decode as a public key on the named curve (OpenSSL checks).
absl::Status CheckEcPoint(const EcdsaCurve& curve, std::string_view point) {
  std::string group(curve.openssl_group);
  std::string pub(point);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()),
      OSSL_PARAM_construct_end()};
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
            EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EvpPkeyPtr pkey(raw);
  if (ok) {
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    ok = check != nullptr && EVP_PKEY_public_check(check.get()) == 1;
  }
  ERR_clear_error();
  if (!ok) return Malformed(curve.key_type, "the point is not on the curve");
  return absl::OkStatus();
}

absl::Status CheckEcdsa(BoundedReader& r, const EcdsaCurve& curve) {
  auto name = r.String(64);
  if (!name.ok() || *name != curve.ssh_name) {
    return Malformed(curve.key_type, "curve name does not match the key type");
  }
  auto point = r.String(256);
  if (!point.ok() || point->size() != curve.point_size || (*point)[0] != '\x04') {
    return Malformed(curve.key_type, "bad point encoding");
  }
  return CheckEcPoint(curve, *point);
}

// Why a key type the broker does not accept is refused.
absl::Status Unsupported(std::string_view type) {
  if (type.find("-cert-v01@openssh.com") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "expected a public key, got a certificate (use the .pub file, not -cert.pub)");
  }
  if (type == "ssh-dss") {
    return absl::InvalidArgumentError("DSA (ssh-dss) keys are refused: they are insecure");
  }
  if (type.substr(0, 3) == "sk-") {
    return absl::InvalidArgumentError(fmt::format(
        "security-key type \"{}\" is not supported yet; use ssh-ed25519, ecdsa-sha2-nistp* or "
        "ssh-rsa",
        Printable(type)));
  }
  return absl::InvalidArgumentError(fmt::format(
      "unsupported public key type \"{}\" (want ssh-ed25519, ecdsa-sha2-nistp256/384/521 or "
      "ssh-rsa)",
      Printable(type)));
}

bool IsAccepted(std::string_view type) {
  if (type == kSshEd25519 || type == kSshRsa) return true;
  for (const auto& c : kCurves) {
    if (type == c.key_type) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<PublicKeyLineFields> SplitPublicKeyLine(std::string_view line) {
  if (line.size() > kMaxPublicKeyLineBytes) {
    return absl::InvalidArgumentError("public key line too long");
  }
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      return absl::InvalidArgumentError("public key line contains control characters");
    }
  }
  size_t pos = 0;
  auto next_field = [&]() {
    while (pos < line.size() && IsSpace(line[pos])) ++pos;
    size_t start = pos;
    while (pos < line.size() && !IsSpace(line[pos])) ++pos;
    return line.substr(start, pos - start);
  };
  PublicKeyLineFields f;
  f.type = next_field();
  f.data = next_field();
  while (pos < line.size() && IsSpace(line[pos])) ++pos;
  f.comment = line.substr(pos);
  while (!f.comment.empty() && IsSpace(f.comment.back())) f.comment.remove_suffix(1);
  if (f.type.empty()) return absl::InvalidArgumentError("empty public key line");
  return f;
}

absl::StatusOr<std::string> CheckUserPublicKeyBlob(std::string_view blob) {
  BoundedReader r(blob, kMaxPublicKeyLineBytes);
  auto type = r.String(64);
  if (!type.ok()) return absl::InvalidArgumentError("malformed public key blob: bad key type");
  if (!IsAccepted(*type)) return Unsupported(*type);
  if (*type == kSshEd25519) {
    auto raw = Ed25519RawFromBlob(blob);
    if (!raw.ok()) return raw.status();
    return std::string(*type);
  }
  absl::Status st;
  if (*type == kSshRsa) {
    st = CheckRsa(r);
  } else {
    for (const auto& c : kCurves) {
      if (*type == c.key_type) st = CheckEcdsa(r, c);
    }
  }
  if (!st.ok()) return st;
  if (!r.Finish().ok()) return Malformed(*type, "trailing bytes");
  return std::string(*type);
}

absl::StatusOr<SshPublicKey> ParseUserPublicKeyLine(std::string_view line) {
  auto f = SplitPublicKeyLine(line);
  if (!f.ok()) return f.status();
  if (!IsAccepted(f->type)) return Unsupported(f->type);
  if (f->data.empty()) return absl::InvalidArgumentError("public key line has no key data");
  auto blob = Base64Decode(f->data);
  if (!blob.ok()) return absl::InvalidArgumentError("public key data is not valid base64");
  auto inner = CheckUserPublicKeyBlob(*blob);
  if (!inner.ok()) return inner.status();
  if (*inner != f->type) {
    return absl::InvalidArgumentError(fmt::format(
        "public key line says \"{}\" but the key is {}", Printable(f->type), *inner));
  }
  if (f->comment.size() > kMaxPublicKeyCommentBytes) {
    return absl::InvalidArgumentError("public key comment too long");
  }
  if (!IsValidUtf8(f->comment)) {
    return absl::InvalidArgumentError("public key comment is not valid UTF-8");
  }
  return SshPublicKey{std::string(f->type), std::move(blob).value(), std::string(f->comment)};
}

}  // namespace portcullis::ca
