// Self-signed certificate generation with OpenSSL 3; see self_signed.hpp.
#include "net/self_signed.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "base/durable_file.hpp"

namespace postino::net {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

X509Ptr read_certificate(const std::filesystem::path& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return X509Ptr(cert);
}

std::string fingerprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out.push_back(':');
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

// True when the certificate stays valid 30 more days and names every host and address.
bool is_still_good(X509* cert, const std::vector<std::string>& dns_names,
                   const std::vector<std::string>& ip_addresses) {
  std::time_t in_30_days = std::time(nullptr) + 30 * 86400;
  if (X509_cmp_time(X509_get0_notAfter(cert), &in_30_days) <= 0) return false;
  for (const auto& name : dns_names) {
    if (X509_check_host(cert, name.data(), name.size(), 0, nullptr) != 1) return false;
  }
  for (const auto& ip : ip_addresses) {
    if (X509_check_ip_asc(cert, ip.c_str(), 0) != 1) return false;
  }
  return true;
}

// `bio`'s contents, written durably (base/durable_file.hpp).
std::string write_durably(const std::filesystem::path& path, BIO* bio, mode_t mode) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return base::write_file_durably(path, std::string_view(data, static_cast<std::size_t>(size)),
                                  mode);
}

}  // namespace

CertificateFacts certificate_facts(const std::filesystem::path& cert_path) {
  CertificateFacts facts;
  auto cert = read_certificate(cert_path);
  if (!cert) return facts;
  facts.readable = true;
  int days = 0, seconds = 0;
  ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert.get()));
  facts.days_left = days;
  facts.self_signed = X509_check_issued(cert.get(), cert.get()) == X509_V_OK;
  return facts;
}

std::string sha256_fingerprint(const std::filesystem::path& cert_path) {
  auto cert = read_certificate(cert_path);
  return cert ? fingerprint_of(cert.get()) : "";
}

CertificateResult ensure_self_signed(const std::filesystem::path& cert_path,
                                     const std::filesystem::path& key_path,
                                     const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ip_addresses) {
  CertificateResult result;
  if (auto existing = read_certificate(cert_path);
      existing && std::filesystem::exists(key_path) &&
      is_still_good(existing.get(), dns_names, ip_addresses)) {
    result.sha256_fingerprint = fingerprint_of(existing.get());
    return result;
  }
  std::error_code ec;
  std::filesystem::create_directories(cert_path.parent_path(), ec);
  std::filesystem::create_directories(key_path.parent_path(), ec);

  KeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return {"cannot create a key", false, ""};
  X509_set_version(cert.get(), 2);
  // A random 128-bit serial, as RFC 5280 §4.1.2.2 allows up to 20 octets.
  unsigned char serial[16];
  FILE* urandom = std::fopen("/dev/urandom", "rb");
  if (!urandom || std::fread(serial, 1, sizeof serial, urandom) != sizeof serial) {
    if (urandom) std::fclose(urandom);
    return {"cannot read /dev/urandom", false, ""};
  }
  std::fclose(urandom);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = dns_names.empty() ? "localhost" : dns_names.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Postino development"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::string san;
  auto add_name = [&san](std::string_view kind, const std::string& value) {
    if (!san.empty()) san.push_back(',');
    san.append(kind).append(value);
  };
  for (const auto& d : dns_names) add_name("DNS:", d);
  for (const auto& ip : ip_addresses) add_name("IP:", ip);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                            std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return {"cannot add certificate extension " + value, false, ""};
    }
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return {"cannot sign", false, ""};

  BioPtr key_bio(BIO_new(BIO_s_mem()));
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_X509(cert_bio.get(), cert.get())) {
    return {"cannot encode the certificate", false, ""};
  }
  if (auto err = write_durably(key_path, key_bio.get(), 0600); !err.empty())
    return {err, false, ""};
  if (auto err = write_durably(cert_path, cert_bio.get(), 0644); !err.empty()) {
    return {err, false, ""};
  }
  result.created = true;
  result.sha256_fingerprint = fingerprint_of(cert.get());
  return result;
}

}  // namespace postino::net
