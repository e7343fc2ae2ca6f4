// The server's TLS context: TLS 1.2+ only, one SSL_CTX shared by every connection, and
// replaced atomically when certificates are reloaded (SIGHUP).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "net/asio.hpp"

namespace postino::net {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

// The ALPN protocol id (RFC 7301) of a listener's protocol ("imaps" → "imap", "submission"
// → "smtp", "https" → "http/1.1"), "" when it has none.
std::string_view alpn_id(std::string_view listener_protocol);

// Tells the server side of a TLS connection which application protocol it speaks: a client
// that offers ALPN without it is refused with the no_application_protocol alert (ALPACA,
// RELIABILITY T04: a TLS connection meant for another protocol is never served); one that
// offers no ALPN is served. `listener_protocol` must outlive the connection (a listener's
// name).
void expect_application_protocol(SSL* ssl, const std::string& listener_protocol);

class TlsContextProvider {
 public:
  explicit TlsContextProvider(TlsFiles files) : files_(std::move(files)) {}
  // (Re)loads the certificate and key; on error keeps the previous context and says why.
  std::string load();
  // The context for a new connection; stays alive as long as the connection holds it.
  std::shared_ptr<asio::ssl::context> current() const;

 private:
  TlsFiles files_;
  mutable std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> context_;
};

}  // namespace postino::net
