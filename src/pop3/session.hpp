// The POP3 server session (RFC 1939 §3–6, RFC 2449 CAPA and response codes, RFC 5034
// AUTH, RFC 2595 STLS): an explicit state machine. The maildrop is a snapshot of INBOX
// taken at login; DELE only marks; QUIT in TRANSACTION removes the marked messages
// durably (UPDATE); a dropped connection removes nothing. It never touches a socket;
// store and password work goes to the driver as After::work.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/scram.hpp"
#include "base/line_splitter.hpp"
#include "net/session.hpp"
#include "pop3/maildrop_locks.hpp"
#include "pop3/wire/command.hpp"
#include "store/store.hpp"

namespace postino::pop3 {

struct SessionSettings {
  std::size_t max_line_bytes = 512;
  std::chrono::seconds idle_timeout{600};
  std::int64_t max_bad_commands = 3;
  // USER/PASS and AUTH PLAIN/LOGIN without TLS from loopback addresses (local scripts).
  bool allow_plaintext_loopback = false;
  std::int64_t max_auth_failures = 3;
  store::Store* store = nullptr;
  auth::Authenticator* authenticator = nullptr;
  MaildropLocks* locks = nullptr;
  // The most bytes of the messages after the one a RETR or TOP reads that are read in the
  // same trip to the worker pool and kept for the commands that follow (clients fetch a
  // maildrop in order): first_read_ahead_window of it, doubling with each batch the client
  // asks for in order; 0 reads only the message asked for.
  std::size_t read_ahead_bytes = 2 * 1024 * 1024;
};

// A session's first read-ahead: an eighth of the most (each trip to the worker pool costs
// about as much as reading 50 small bodies, so a client that downloads the whole maildrop
// should make few; one that reads a message or two should not be read a lot for nothing).
constexpr std::size_t first_read_ahead_window(std::size_t most) {
  return most / 8 > 0 ? most / 8 : most;
}

class Session final : public net::ProtocolSession {
 public:
  // RFC 1939 §4.
  struct Authorization {
    std::string user;  // after USER
  };
  struct MaildropMessage {
    store::Uid uid;
    std::int64_t size = 0;
    std::string uidl;
    bool is_deleted = false;
  };
  struct Transaction {
    store::Account account;
    store::MailboxId inbox;
    std::vector<MaildropMessage> messages;
  };
  using State = std::variant<Authorization, Transaction>;

  Session(SessionSettings settings, net::ClientInfo client);
  ~Session() override;

  net::Output greet() override;
  net::Output receive(std::string& input) override;
  net::Output resume(std::string& input) override;
  void tls_started(const net::TlsInfo& info) override;
  std::string timeout_reply() override;
  std::string shutdown_reply() override;
  std::chrono::seconds idle_timeout() const override { return settings_.idle_timeout; }

  const State& state() const { return state_; }

 private:
  struct ReadingAuth {
    std::string mechanism;  // "PLAIN", "LOGIN" or "SCRAM-SHA-256"
    std::string username;   // LOGIN: after the first answer
    std::shared_ptr<auth::ScramExchange> scram;
  };

  net::Output process(std::string& input, net::Output out);
  void handle(std::string_view line, net::Output& out);
  void bad(std::string_view text, net::Output& out);
  void capa(net::Output& out);
  bool may_use_plaintext() const;

  // commands/login.cpp
  void user(const wire::Command& cmd, net::Output& out);
  void pass(std::string_view password, net::Output& out);
  void auth(const wire::Command& cmd, net::Output& out);
  void auth_response(std::string_view line, net::Output& out);
  void login(std::string username, std::string password, net::Output& out);
  void scram_response(ReadingAuth state, std::string_view decoded, net::Output& out);
  // On the worker pool: the outcome of a login; on success locks and snapshots the maildrop.
  void finish_login(auth::LoginResult result);
  // commands/maildrop.cpp
  void transaction_command(const wire::Command& cmd, net::Output& out);
  // The message numbered by `arg` (1-based, not deleted), or nullptr after an -ERR.
  MaildropMessage* message(std::string_view arg, net::Output& out);
  void retrieve(MaildropMessage& m, std::optional<std::uint64_t> top_lines, net::Output& out);
  // On the worker pool: the small messages after position `after` into read_ahead_.
  void read_ahead(std::size_t after);
  void quit(net::Output& out);

  SessionSettings settings_;
  net::ClientInfo client_;
  base::LineSplitter splitter_;
  State state_ = Authorization{};
  std::optional<ReadingAuth> auth_;
  bool is_tls_ = false;
  std::int64_t bad_commands_ = 0;
  std::int64_t auth_failures_ = 0;
  std::optional<store::AccountId> locked_;
  // Filled by work on the worker pool, read by resume() on the session's loop.
  net::WorkResult work_;
  bool stream_failed_ = false;  // a message could not be read to its end
  // Messages read before they were asked for (read_ahead), by UID; each is used once.
  std::unordered_map<std::uint32_t, std::string> read_ahead_;
  std::size_t read_ahead_window_ = first_read_ahead_window(settings_.read_ahead_bytes);
  // The position of the first message after those the last read-ahead took; none before.
  std::optional<std::size_t> read_ahead_end_;
};

}  // namespace postino::pop3
