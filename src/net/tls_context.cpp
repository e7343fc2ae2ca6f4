// TLS context loading; see tls_context.hpp.
#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace postino::net {
namespace {

int alpn_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The server's ALPN choice: the listener's protocol if the client offers it, else a fatal
// alert; no opinion when the connection was not told its protocol.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned offered_length, void*) {
  const auto* protocol = static_cast<const std::string*>(SSL_get_ex_data(ssl, alpn_index()));
  const auto id = protocol ? alpn_id(*protocol) : std::string_view();
  if (id.empty()) return SSL_TLSEXT_ERR_NOACK;
  // The offered list is length-prefixed ids; ours must be one of them, byte for byte.
  for (unsigned at = 0; at < offered_length;) {
    const unsigned length = offered[at];
    if (at + 1 + length > offered_length) break;
    if (std::string_view(reinterpret_cast<const char*>(offered) + at + 1, length) == id) {
      *out = offered + at + 1;
      *out_length = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    at += 1 + length;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
}

}  // namespace

std::string_view alpn_id(std::string_view listener_protocol) {
  if (listener_protocol == "imap" || listener_protocol == "imaps") return "imap";
  if (listener_protocol == "pop3" || listener_protocol == "pop3s") return "pop3";
  if (listener_protocol == "smtp" || listener_protocol == "submission" ||
      listener_protocol == "submissions") {
    return "smtp";
  }
  if (listener_protocol == "http" || listener_protocol == "https") return "http/1.1";
  return "";
}

void expect_application_protocol(SSL* ssl, const std::string& listener_protocol) {
  SSL_set_ex_data(ssl, alpn_index(), const_cast<std::string*>(&listener_protocol));
}

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
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
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
