#include "tests/broker/tls/test_pki.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace portcullis::tls::testing {
namespace {

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

void AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) throw std::runtime_error("extension");
}

}  // namespace

std::string Issued::CertPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  return BioText(bio.get());
}

std::string Issued::KeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

EvpPkeyPtr NewKey(int rsa_bits, bool ed25519) {
  if (ed25519) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (rsa_bits > 0) {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
  }
  return EvpPkeyPtr(EVP_EC_gen("P-256"));
}

Issued MakeCert(const CertSpec& spec, const Issued* issuer, EvpPkeyPtr key) {
  Issued out;
  out.key = key ? std::move(key) : NewKey();
  out.cert.reset(X509_new());
  X509* c = out.cert.get();
  X509_set_version(c, 2);
  unsigned char serial[12];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(c), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(c), static_cast<time_t>(spec.not_after));
  X509_set_pubkey(c, out.key.get());
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Test Plant"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : c;
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  AddExt(c, issuer_cert, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExt(c, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer) AddExt(c, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (spec.key_usage) AddExt(c, issuer_cert, NID_key_usage, *spec.key_usage);
  if (spec.ext_key_usage) AddExt(c, issuer_cert, NID_ext_key_usage, *spec.ext_key_usage);
  if (spec.san) AddExt(c, issuer_cert, NID_subject_alt_name, *spec.san);
  EVP_PKEY* signer = issuer ? issuer->key.get() : out.key.get();
  const EVP_MD* md = EVP_PKEY_base_id(signer) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(c, signer, md) == 0) throw std::runtime_error("sign");
  return out;
}

Issued MakeRoot(const std::string& cn) {
  CertSpec spec;
  spec.cn = cn;
  spec.ca = true;
  spec.not_before = kT0 - 365 * 86400;
  spec.not_after = kT0 + 3650 * 86400;
  spec.san = std::nullopt;
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.ext_key_usage = std::nullopt;
  return MakeCert(spec, nullptr);
}

Issued MakeIntermediate(const Issued& issuer, const std::string& cn) {
  CertSpec spec;
  spec.cn = cn;
  spec.ca = true;
  spec.not_before = kT0 - 30 * 86400;
  spec.not_after = kT0 + 1825 * 86400;
  spec.san = std::nullopt;
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.ext_key_usage = std::nullopt;
  return MakeCert(spec, &issuer);
}

std::string EncryptedKeyPem(EVP_PKEY* key, const std::string& password) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), password.data(),
                                static_cast<int>(password.size()), nullptr, nullptr);
  return BioText(bio.get());
}

}  // namespace portcullis::tls::testing
