// The contract between the connection driver (which owns the socket) and a protocol
// session (a pure state machine). Sessions never see sockets; the driver never parses.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace postino::net {

struct ClientInfo {
  std::string session_id;
  std::string address;  // the peer's IP literal
  std::uint16_t port = 0;
  std::string local_address;
  std::uint16_t local_port = 0;
  bool is_trusted = false;   // inside limits.trusted_networks
  bool is_loopback = false;  // 127.0.0.0/8 or ::1
  bool is_tls = false;       // implicit TLS: the handshake is done before the greeting
};

struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
};

// What the driver does once it has written `bytes`.
enum class After {
  read,       // wait for more input
  start_tls,  // discard all unread input, then run the TLS handshake (RFC 3207 §4.2)
  // Discard all unread input (the client may compress only after this reply), then
  // compress both directions (IMAP COMPRESS=DEFLATE, RFC 4978).
  start_compression,
  close,  // close the connection
  work,   // run `work` on the worker pool, then call resume()
};

struct Output {
  std::string bytes;
  After after = After::read;
  // Blocking work (store, password hashing) for After::work; it must not throw.
  std::function<void()> work;
  // The work checks a password (a deliberately slow hash): it runs on the login pool, so
  // that a burst of logins never makes other sessions' store work wait behind it.
  bool work_checks_password = false;
  // Wait this long before writing `bytes` (failed logins are answered slowly). The wait
  // is a timer on the event loop, never a sleeping thread.
  std::chrono::milliseconds delay{0};
  // After `bytes`: a large response, a piece at a time. Called on the worker pool with
  // an empty string to fill with the next piece, until it leaves it empty (then, with
  // After::work and no `work`, resume() is called). The string is the same from piece to
  // piece, its memory kept: a fresh buffer for each piece was fresh pages each time, a
  // page fault per 4 KiB (some 10 us on a virtual machine; 14 pieces of 256 KiB for UID
  // FETCH 1:* (FLAGS) of 100,000 messages).
  using Stream = std::function<void(std::string& piece)>;
  Stream stream;
};

// The next piece of `stream` in a string of its own ("" at the end), for tests.
inline std::string next_piece(const Output::Stream& stream) {
  std::string piece;
  stream(piece);
  return piece;
}

// What a session's blocking work hands back: written on the worker pool, turned into the
// next Output by resume() on the session's own loop.
struct WorkResult {
  std::string reply;
  std::chrono::milliseconds delay{0};  // wait before writing `reply` (failed logins)
  bool closes = false;
  Output::Stream stream;  // a large response to send after `reply`

  // Moves the result into an Output and leaves this empty.
  Output take() {
    Output out;
    out.bytes = std::move(reply);
    out.delay = std::exchange(delay, std::chrono::milliseconds(0));
    if (std::exchange(closes, false)) out.after = After::close;
    if (stream) {
      out.stream = std::move(stream);
      stream = nullptr;
      if (out.after != After::close) out.after = After::work;  // resume once it is sent
    }
    reply.clear();
    return out;
  }
};

class ProtocolSession {
 public:
  virtual ~ProtocolSession() = default;
  // The greeting, sent when the connection (and, for implicit TLS, the handshake) is up.
  virtual Output greet() = 0;
  // Consumes every complete command at the front of `input` and answers them. Stops early
  // at a command that ends the session or starts TLS; `input` keeps unconsumed bytes.
  virtual Output receive(std::string& input) = 0;
  // After::work has finished: produces its reply, then carries on with `input` as
  // receive() does.
  virtual Output resume(std::string& input) { return receive(input); }
  // The driver's way in from other threads: calling `wake` (any thread, any time, also
  // after the connection ended) makes the driver call woken() on the session's own loop
  // as soon as it waits for input. Sessions that watch for changes (IMAP IDLE) keep it.
  virtual void set_waker(std::function<void()> wake) { (void)wake; }
  // Something the session asked to hear of happened; `input` holds unconsumed bytes.
  virtual Output woken(std::string& input) { return receive(input); }
  // The handshake requested by After::start_tls succeeded.
  virtual void tls_started(const TlsInfo& info) = 0;
  // Sent before closing a connection that was silent for idle_timeout().
  virtual std::string timeout_reply() = 0;
  // Sent to an idle session when the server shuts down.
  virtual std::string shutdown_reply() = 0;
  virtual std::chrono::seconds idle_timeout() const = 0;
  // True while the bytes being read belong to one command that is not complete yet (a
  // message being transferred), so the command's time keeps running across reads.
  virtual bool is_mid_command() const { return false; }
  // How long one command may take from its first byte: idle_timeout() unless the
  // command grows its budget with the bytes it receives (a minimum data rate).
  virtual std::chrono::steady_clock::duration command_budget() const { return idle_timeout(); }
};

class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  virtual std::unique_ptr<ProtocolSession> create(const ClientInfo& client) = 0;
  // Sent instead of a greeting when a connection limit is reached.
  virtual std::string busy_reply() = 0;
};

}  // namespace postino::net
