// The server's TLS context: TLS 1.2+ only, one SSL_CTX shared by every connection, and
// replaced atomically when certificates are reloaded (SIGHUP).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "net/asio.hpp"

namespace postino::net {

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

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
