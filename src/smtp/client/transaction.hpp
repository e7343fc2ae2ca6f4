// One outbound SMTP session as the client (RFC 5321 §3, §4.1; RFC 3207 STARTTLS; RFC 2920
// PIPELINING; RFC 1870 SIZE; RFC 6152 8BITMIME; RFC 6531 SMTPUTF8; RFC 3461 DSN): an
// explicit state machine that takes the peer's replies and says what to send next. It
// never touches a socket: the delivery driver writes its commands, sends the message
// body (dot-stuffed) when asked, runs the TLS handshake and enforces the timeouts.
//
// The outcome is per recipient: sent, temporary failure (retry later, or at the next MX)
// or permanent failure (bounce), each with the reply that decided it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smtp/client/reply.hpp"

namespace postino::smtp::client {

struct OutboundRecipient {
  std::string address;
  std::string orcpt;         // "rfc822;addr" or "" (RFC 3461 ORCPT)
  std::uint32_t notify = 0;  // bits: 1 NEVER, 2 SUCCESS, 4 FAILURE, 8 DELAY; 0 unspecified
};

struct OutboundMessage {
  std::string sender;  // "" is the null reverse-path (bounces)
  std::vector<OutboundRecipient> recipients;
  std::uint64_t size = 0;       // bytes of the message as stored (CRLF line ends)
  bool has_8bit = false;        // a byte over 127 in the body: BODY=8BITMIME needed
  bool needs_smtputf8 = false;  // UTF-8 in the envelope or the header (RFC 6531)
  std::string envid;            // RFC 3461 ENVID, "" when none
  int ret = 0;                  // 0 unspecified, 1 FULL, 2 HDRS
};

struct ClientPolicy {
  std::string helo_name;     // our host name, for EHLO/HELO
  bool can_tls = true;       // a TLS client context exists (STARTTLS when offered)
  bool require_tls = false;  // refuse to send in the clear (config or domain policy)
  // A relay host that wants us to log in (RFC 4954): AUTH PLAIN, or LOGIN when that is
  // all it offers, and only over TLS. Empty user: no AUTH.
  std::string auth_user;
  std::string auth_password;
};

class Transaction {
 public:
  enum class Status { pending, sent, temporary, permanent };
  struct RecipientResult {
    Status status = Status::pending;
    std::string reply;  // the summary of the reply that decided it (or why, locally)
  };
  // What to do after a reply: write `bytes`; then, in this order, run the TLS handshake
  // (and call tls_started), send the message body dot-stuffed and ended with ".\r\n"
  // (after DATA) or exactly as stored, `message.size` bytes (after BDAT, RFC 3030), or
  // close the connection once `bytes` are written.
  struct Output {
    std::string bytes;
    bool start_tls = false;
    bool send_body = false;
    bool raw_body = false;  // with send_body: BDAT, no dot-stuffing and no terminator
    bool close = false;
  };

  Transaction(OutboundMessage message, ClientPolicy policy);

  // Each reply of the peer, in order, beginning with its greeting.
  Output receive(const Reply& reply);
  // After the TLS handshake that a `start_tls` output asked for: EHLO again.
  Output tls_started();
  // The connection failed (refused, dropped, timed out, bytes that are not SMTP): every
  // recipient still pending fails temporarily with this reason.
  void connection_failed(const std::string& reason);

  bool is_done() const { return state_ == State::done; }
  bool is_tls() const { return is_tls_; }
  // The peer offered DSN (RFC 3461): it reports success and delays itself; without it, a
  // recipient who asked for NOTIFY=SUCCESS gets a "relayed" report from us (§4.2).
  bool peer_offers_dsn() const { return dsn_; }
  const std::vector<RecipientResult>& results() const { return results_; }
  // True when no recipient was decided by this server: the next MX may be tried
  // (RFC 5321 §5.1: after a connection failure, a greeting or EHLO refusal, a 4xx).
  bool try_next_server() const;

 private:
  enum class State {
    greeting,
    ehlo,
    helo,
    starttls,
    auth,
    auth_login_user,
    auth_login_password,
    mail,
    rcpt,
    data,
    body,
    done
  };

  Output send_ehlo();
  Output after_hello();
  Output authenticate();
  Output begin_mail();
  // Every recipient still pending gets `status` and `why`.
  void settle_pending(Status status, const std::string& why);
  // settle_pending, then QUIT.
  Output fail_all(Status status, const std::string& why);
  // What this server says it cannot take: a bounce for every pending recipient.
  Output refuse(const std::string& why);
  Output quit();
  std::string mail_command() const;
  std::string rcpt_command(const OutboundRecipient& r) const;
  void parse_extensions(const Reply& reply);

  OutboundMessage message_;
  ClientPolicy policy_;
  State state_ = State::greeting;
  bool is_tls_ = false;
  bool decided_by_server_ = false;  // a recipient's fate came from this server's reply
  // What the peer offers (EHLO).
  bool pipelining_ = false, starttls_ = false, eight_bit_ = false, smtputf8_ = false, dsn_ = false,
       size_ = false, chunking_ = false, auth_plain_ = false, auth_login_ = false;
  std::uint64_t max_size_ = 0;       // SIZE n; 0: no limit given
  std::size_t next_rcpt_reply_ = 0;  // recipient whose RCPT reply comes next
  bool data_pipelined_ = false;      // DATA was sent with the RCPTs
  std::size_t accepted_ = 0;         // recipients the peer took at RCPT
  std::vector<RecipientResult> results_;
};

}  // namespace postino::smtp::client
