// TLS context loading; see tls_context.hpp.
#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace postino::net {

std::string TlsContextProvider::load() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  // TLS 1.2 is the floor (RFC 8996 deprecates 1.0 and 1.1); RFC 8314 §4.1 wants 1.2+.
  const int floor = files_.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(native, floor);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  // An idle connection (IMAP IDLE, thousands of them) gives its record buffers back.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(files_.cert_file, ec);
  if (ec) return "cannot load certificate " + files_.cert_file + ": " + ec.message();
  ctx->use_private_key_file(files_.key_file, asio::ssl::context::pem, ec);
  if (ec) return "cannot load private key " + files_.key_file + ": " + ec.message();
  if (SSL_CTX_check_private_key(native) != 1) {
    return "the private key " + files_.key_file + " does not match " + files_.cert_file;
  }
  std::lock_guard lock(mutex_);
  context_ = std::move(ctx);
  return "";
}

std::shared_ptr<asio::ssl::context> TlsContextProvider::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

}  // namespace postino::net
