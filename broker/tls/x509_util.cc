#include "broker/tls/x509_util.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "broker/common/display_text.h"

namespace portcullis::tls {
namespace {

struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !name) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return BioText(bio.get());
}

// The PEM password callback: no password is ever supplied; it only records
// that one was asked for (the key is encrypted).
int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

std::string IpText(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof buf)) return buf;
  if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof buf)) return buf;
  return "<bad address>";
}

}  // namespace

KeyPemText& KeyPemText::operator=(KeyPemText&& other) noexcept {
  if (this != &other) {
    Wipe();
    text_ = std::move(other.text_);
    other.Wipe();
  }
  return *this;
}

void KeyPemText::Wipe() {
  if (!text_.empty()) OPENSSL_cleanse(text_.data(), text_.size());
  text_.clear();
}

absl::StatusOr<std::vector<X509Ptr>> ParsePemCertificates(std::string_view pem,
                                                          std::string_view what) {
  BioPtr bio = MemBio(pem);
  if (!bio) return absl::InternalError("out of memory");
  std::vector<X509Ptr> out;
  for (;;) {
    ERR_clear_error();
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      const unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return absl::InvalidArgumentError(
          fmt::format("{}: certificate {} does not parse (not a PEM X.509 certificate)", what,
                      out.size() + 1));
    }
    if (out.size() == kMaxPemCertificates) {
      return absl::InvalidArgumentError(
          fmt::format("{}: more than {} certificates", what, kMaxPemCertificates));
    }
    out.push_back(std::move(cert));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)", what));
  }
  return out;
}

absl::StatusOr<EvpPkeyPtr> ParsePrivateKeyPem(std::string_view pem, std::string_view what) {
  BioPtr bio = MemBio(pem);
  if (!bio) return absl::InternalError("out of memory");
  bool asked_password = false;
  ERR_clear_error();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, &asked_password));
  ERR_clear_error();
  if (asked_password) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: the private key is encrypted; the broker starts unattended and needs it in the "
        "clear (decrypt it with `openssl pkey -in KEY -out KEY.clear`, keep that file 0600)",
        what));
  }
  if (!key) {
    return absl::InvalidArgumentError(
        fmt::format("{}: no PEM private key in it, or it does not parse", what));
  }
  return key;
}

bool IsRsaKey(EVP_PKEY* key) { return EVP_PKEY_base_id(key) == EVP_PKEY_RSA; }

absl::StatusOr<std::string> CheckServerKeyType(EVP_PKEY* key) {
  const int id = EVP_PKEY_base_id(key);
  if (id == EVP_PKEY_RSA) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < 2048) {
      return absl::InvalidArgumentError(
          fmt::format("the RSA key has {} bits; at least 2048 are required", bits));
    }
    return fmt::format("RSA {}", bits);
  }
  if (id == EVP_PKEY_EC) {
    char curve[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                       &len) != 1) {
      return absl::InvalidArgumentError("the EC key's curve cannot be read");
    }
    const std::string name(curve, len);
    if (name == "prime256v1" || name == "P-256") return std::string("ECDSA P-256");
    if (name == "secp384r1" || name == "P-384") return std::string("ECDSA P-384");
    if (name == "secp521r1" || name == "P-521") return std::string("ECDSA P-521");
    return absl::InvalidArgumentError(
        fmt::format("the EC key is on curve {}; use P-256, P-384 or P-521", name));
  }
  return absl::InvalidArgumentError(
      "the key is neither ECDSA nor RSA (the API serves ECDSA P-256/P-384/P-521 or RSA >= 2048 "
      "bits)");
}

bool Asn1TimeToUnix(const ASN1_TIME* t, int64_t* out) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  *out = static_cast<int64_t>(timegm(&tm));
  return true;
}

CertificateSummary Summarise(X509* cert) {
  CertificateSummary s;
  s.subject = NameText(X509_get_subject_name(cert));
  s.issuer = NameText(X509_get_issuer_name(cert));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1) {
    for (unsigned int i = 0; i < md_len; ++i) {
      if (i) s.sha256_fingerprint += ':';
      s.sha256_fingerprint += fmt::format("{:02X}", md[i]);
    }
  }
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      s.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  (void)Asn1TimeToUnix(X509_get0_notBefore(cert), &s.not_before_unix);
  (void)Asn1TimeToUnix(X509_get0_notAfter(cert), &s.not_after_unix);
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      if (gn->type == GEN_DNS) {
        const ASN1_IA5STRING* dns = gn->d.dNSName;
        s.sans.push_back(
            "DNS:" + DisplayText(std::string_view(
                         reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                         static_cast<size_t>(ASN1_STRING_length(dns)))));
      } else if (gn->type == GEN_IPADD) {
        s.sans.push_back("IP:" + IpText(gn->d.iPAddress));
      }
    }
  }
  return s;
}

std::string CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return "";
  return BioText(bio.get());
}

KeyPemText PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return KeyPemText();
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  KeyPemText out(std::string(data, static_cast<size_t>(len > 0 ? len : 0)));
  if (len > 0) OPENSSL_cleanse(data, static_cast<size_t>(len));
  return out;
}

}  // namespace portcullis::tls
