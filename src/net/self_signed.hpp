// Self-signed certificates for `serve --dev`, and certificate fingerprints.
// OpenSSL only (no Asio), so it is cheap to build and test.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace postino::net {

struct CertificateResult {
  std::string error;  // empty on success
  bool created = false;
  std::string sha256_fingerprint;  // "AB:CD:…"
};

// Makes sure `cert_path`/`key_path` hold a usable self-signed certificate: keeps an existing
// pair that is valid for at least 30 more days and covers every name, otherwise writes a new
// ECDSA P-256 key (mode 0600) and a one-year certificate whose SANs are `dns_names` and
// `ip_addresses`. Files are written to a temporary name, fsynced and renamed.
CertificateResult ensure_self_signed(const std::filesystem::path& cert_path,
                                     const std::filesystem::path& key_path,
                                     const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ip_addresses);

// What `postino status` says of a certificate file.
struct CertificateFacts {
  bool readable = false;
  long days_left = 0;  // until notAfter; negative once expired
  bool self_signed = false;
};
CertificateFacts certificate_facts(const std::filesystem::path& cert_path);

// SHA-256 fingerprint of the first certificate in a PEM file; empty if unreadable.
std::string sha256_fingerprint(const std::filesystem::path& cert_path);

}  // namespace postino::net
