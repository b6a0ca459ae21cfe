#include "broker/tls/tls_material.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "broker/common/files.h"
#include "broker/common/openssl_handles.h"

namespace portcullis::tls {
namespace {

absl::Status OpenSslError(std::string_view what) {
  return absl::InternalError(fmt::format("TLS material: {} failed", what));
}

EvpPkeyPtr NewP256Key() {
  return EvpPkeyPtr(EVP_EC_gen("P-256"));
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return false;
  return X509_add_ext(cert, ext.get(), -1) == 1;
}

X509Ptr NewCert(EVP_PKEY* key, const std::string& cn, long days) {
  X509Ptr cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400L);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Portcullis"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

std::string PemOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string PemOfKey(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<size_t>(len));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return out;
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

absl::Status CreateTlsMaterial(const TlsPaths& paths, const std::vector<std::string>& server_names) {
  for (const auto* p : {&paths.ca_cert, &paths.ca_key, &paths.server_cert, &paths.server_key}) {
    if (PathExists(*p)) return absl::AlreadyExistsError(fmt::format("{} already exists", *p));
  }
  EvpPkeyPtr ca_key = NewP256Key();
  EvpPkeyPtr srv_key = NewP256Key();
  if (!ca_key || !srv_key) return OpenSslError("key generation");

  X509Ptr ca = NewCert(ca_key.get(), "Portcullis API CA", 3650);
  if (!ca) return OpenSslError("CA certificate");
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  if (!AddExt(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !AddExt(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExt(ca.get(), ca.get(), NID_subject_key_identifier, "hash")) {
    return OpenSslError("CA extensions");
  }
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslError("CA signing");

  X509Ptr srv = NewCert(srv_key.get(), "portcullisd", 825);
  if (!srv) return OpenSslError("server certificate");
  X509_set_issuer_name(srv.get(), X509_get_subject_name(ca.get()));
  std::string san = "IP:127.0.0.1,IP:::1,DNS:localhost";
  for (const auto& n : server_names) {
    if (n == "localhost" || n == "127.0.0.1" || n == "::1") continue;
    san += IsIp(n) ? ",IP:" + n : ",DNS:" + n;
  }
  if (!AddExt(srv.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExt(srv.get(), ca.get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExt(srv.get(), ca.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExt(srv.get(), ca.get(), NID_subject_alt_name, san) ||
      !AddExt(srv.get(), ca.get(), NID_authority_key_identifier, "keyid:always")) {
    return OpenSslError("server extensions");
  }
  if (X509_sign(srv.get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslError("server signing");

  std::string ca_key_pem = PemOfKey(ca_key.get());
  std::string srv_key_pem = PemOfKey(srv_key.get());
  absl::Status st = WriteFileAtomic(paths.ca_key, ca_key_pem, 0600, true);
  if (st.ok()) st = WriteFileAtomic(paths.server_key, srv_key_pem, 0600, true);
  if (st.ok()) st = WriteFileAtomic(paths.ca_cert, PemOf(ca.get()), 0644, true);
  if (st.ok()) st = WriteFileAtomic(paths.server_cert, PemOf(srv.get()), 0644, true);
  OPENSSL_cleanse(ca_key_pem.data(), ca_key_pem.size());
  OPENSSL_cleanse(srv_key_pem.data(), srv_key_pem.size());
  return st;
}

}  // namespace portcullis::tls
