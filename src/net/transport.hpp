// A client connection's byte transport: plain TCP that can be upgraded to TLS in place
// (STARTTLS) or start with TLS (RFC 8314), every operation bounded by a deadline.
//
// TLS runs OpenSSL directly on the non-blocking socket (a socket BIO), waiting for
// readiness with Asio, instead of asio::ssl::stream: that stream keeps four 17 KB buffers
// per connection for as long as it lives, which made an idle IMAP connection cost about
// 94 KB. Here a connection waiting for input holds no buffer at all (reads go through one
// buffer per thread, and OpenSSL releases its record buffers: SSL_MODE_RELEASE_BUFFERS).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/asio.hpp"
#include "net/deflate.hpp"
#include "net/session.hpp"

namespace postino::net {

class Transport {
 public:
  enum class Status {
    ok,
    closed,     // end of stream or a socket error
    timed_out,  // the deadline passed
    stopped,    // stop() interrupted a read (server shutdown)
    woken,      // wake() interrupted a read (or came before it): nothing was read
  };
  using Duration = std::chrono::steady_clock::duration;

  explicit Transport(tcp::socket socket);

  // Appends what arrives (at most one buffer's worth, inflated when compressed) to `input`.
  asio::awaitable<Status> read_some(std::string& input, Duration timeout);
  asio::awaitable<Status> write(std::string_view bytes, Duration timeout);
  // IMAP COMPRESS=DEFLATE (RFC 4978): from now on what is read is inflated and what is
  // written deflated (above TLS when it is on). False when zlib could not start.
  bool start_compression();
  // Runs the server side of a TLS handshake on the connection as it is now.
  // `protocol` (the listener's, which outlives the connection) is checked against the
  // client's ALPN offer (net/tls_context.hpp).
  asio::awaitable<Status> handshake(std::shared_ptr<asio::ssl::context> context, Duration timeout,
                                    const std::string* protocol = nullptr);
  // Runs the client side of a TLS handshake (STARTTLS to another server), naming
  // `server_name` in SNI.
  asio::awaitable<Status> client_handshake(const std::shared_ptr<asio::ssl::context>& context,
                                           const std::string& server_name, Duration timeout);
  // Acknowledges what was received at once instead of after the delayed-ACK timer (TCP_QUICKACK).
  // For a read that leaves the server with nothing to say yet: a client that wrote a
  // literal and then its closing CRLF apart, Nagle's algorithm on (Python's imaplib, for
  // one), holds the CRLF back until the literal is acknowledged, and Linux's delayed ACK
  // waits 40 ms for a reply to carry it (each APPEND took 44 ms; Dovecot sets it too).
  void acknowledge_now();
  // Sends TLS close_notify when in TLS (waiting at most `timeout`), then closes the socket.
  asio::awaitable<void> close(Duration timeout);
  // Interrupts a pending read_some (and any later one) with Status::stopped. Call it on
  // the connection's executor.
  void stop();
  // Interrupts a pending read_some with Status::woken, or the next one when none is
  // pending. Call it on the connection's executor.
  void wake();

  bool is_tls() const { return ssl_ != nullptr; }
  bool is_compressed() const { return deflate_ != nullptr; }
  asio::any_io_executor executor() { return read_timer_.get_executor(); }
  bool is_stopped() const { return stopped_; }
  TlsInfo tls_info() const;

 private:
  // The bytes as they come and go on the connection (TLS records' contents or TCP).
  asio::awaitable<Status> read_raw(std::string& input, Duration timeout);
  asio::awaitable<Status> write_raw(std::string_view bytes, Duration timeout);
  // Both handshakes: TLS on the socket as it is now, the handshake in the given role.
  asio::awaitable<Status> start_tls(const std::shared_ptr<asio::ssl::context>& context,
                                    bool is_server, std::string_view server_name, Duration timeout,
                                    const std::string* protocol = nullptr);
  // Waits until the socket is readable (or writable), the timer expires or a read is
  // interrupted; `timer` is read_timer_ for reads (stop() and wake() cancel it).
  asio::awaitable<Status> wait(bool for_write, asio::steady_timer& timer);
  // What an OpenSSL call that returned `result` wants: ok to retry after waiting for
  // `for_write`, or the end.
  enum class Want { read, write, done };
  Want want(int result) const;

  tcp::socket plain_;
  std::unique_ptr<SSL, void (*)(SSL*)> ssl_{nullptr, SSL_free};
  std::shared_ptr<asio::ssl::context> context_;  // keeps the SSL_CTX alive
  std::unique_ptr<Deflate> deflate_;             // COMPRESS=DEFLATE once started
  asio::steady_timer read_timer_;                // cancelled by stop() and wake()
  asio::steady_timer io_timer_;                  // writes, handshakes, close
  bool stopped_ = false;
  bool woken_ = false;
};

}  // namespace postino::net
