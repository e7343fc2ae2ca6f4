// DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463), relaxed/relaxed,
// of mail whose From: domain has a key here. Keys live in files,
// <dir>/<domain>/<selector>.rsa.pem or .ed25519.pem (PKCS#8), made by
// `postino dkim generate`, which also prints the DNS record to publish.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dkim/canonical.hpp"

namespace postino::dkim {

enum class Algorithm { rsa_sha256, ed25519_sha256 };

struct Key {
  std::string domain;  // lower-case
  std::string selector;
  Algorithm algorithm = Algorithm::rsa_sha256;
  std::shared_ptr<void> pkey;  // EVP_PKEY, freed with EVP_PKEY_free
};

// Every key under a directory, by domain.
class KeyRing {
 public:
  // Loads <dir>/<domain>/<selector>.{rsa,ed25519}.pem; returns a line per file that could
  // not be read (a missing directory is no error: nothing is signed).
  std::vector<std::string> load(const std::filesystem::path& dir);
  const std::vector<Key>* find(std::string_view domain) const;
  const auto& all() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::map<std::string, std::vector<Key>, std::less<>> keys_;
};

// The DKIM key record of a key (RFC 6376 §3.6.1): "v=DKIM1; k=rsa; p=…"; "" on failure.
std::string txt_value(const Key& key);

// Creates a key and returns the DNS TXT record for it ("<selector>._domainkey.<domain>.
// IN TXT ..."), or an error text starting with "error: ".
std::string generate_key(const std::filesystem::path& dir, const std::string& domain,
                         const std::string& selector, Algorithm algorithm);

// The header fields signed when present (RFC 6376 §5.4.1), From first; From is signed
// once more than it occurs, so that none can be added (§8.15).
inline constexpr std::string_view signed_fields[] = {"from",         "to",
                                                     "cc",           "subject",
                                                     "date",         "message-id",
                                                     "reply-to",     "in-reply-to",
                                                     "references",   "mime-version",
                                                     "content-type", "content-transfer-encoding",
                                                     "list-id",      "list-unsubscribe",
                                                     "sender"};

// Signs one message read in pieces: the header is kept (up to a limit), the body hashed as
// it goes by.
class MessageSigner {
 public:
  explicit MessageSigner(std::size_t max_header_bytes = 1 << 20)
      : max_header_bytes_(max_header_bytes) {}
  void feed(std::string_view chunk);
  // The domain of the From: address ("" when there is none or the header was too large).
  std::string from_domain() const;
  // DKIM-Signature fields, one per key, ready to be put before the message (CRLF line
  // ends, folded); "" when nothing could be signed.
  std::string sign(const std::vector<Key>& keys, std::chrono::system_clock::time_point now);

 private:
  std::size_t max_header_bytes_;
  std::string header_;
  bool in_body_ = false;
  bool header_too_large_ = false;
  RelaxedBody body_;
  std::shared_ptr<void> body_hash_;  // EVP_MD_CTX, SHA-256 of the canonical body
};

}  // namespace postino::dkim
