// The SMTP server session (RFC 5321 §3, §4.1): an explicit state machine. The state owns
// the reader of the next bytes: command lines, DATA text, BDAT chunks or a SASL exchange.
// It never touches a socket; store and password work is handed to the driver as
// After::work, and the answer comes out of resume().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <memory>

#include "auth/authenticator.hpp"
#include "auth/scram.hpp"
#include "base/line_splitter.hpp"
#include "net/session.hpp"
#include "smtp/sending_limiter.hpp"
#include "smtp/wire/command.hpp"
#include "smtp/wire/data_reader.hpp"
#include "smtp/wire/envelope.hpp"
#include "store/store.hpp"

namespace postino::smtp {

enum class BareLfPolicy { normalize, reject };

struct SessionSettings {
  std::string hostname;
  std::size_t max_line_bytes = 2048;
  std::chrono::seconds idle_timeout{300};
  std::int64_t max_errors = 20;
  // NOOP, RSET, VRFY and ETRN a session may send (since its last message) before each one
  // counts as an error (Postfix smtpd_junk_command_limit).
  std::int64_t max_junk_commands = 100;
  bool is_submission = false;  // port 587/465 (RFC 6409): AUTH required, relaying allowed
  std::uint64_t max_message_bytes = 50 * 1024 * 1024;
  std::size_t max_recipients = 1000;
  // Recipients past max_recipients answered 452 before each counts toward max_errors.
  std::size_t recipient_overshoot_limit = 1000;
  std::int64_t max_auth_failures = 3;
  std::size_t max_received_headers = 50;  // RFC 5321 §6.3 loop guard (Postfix hopcount_limit)
  BareLfPolicy bare_lf = BareLfPolicy::normalize;
  bool is_dev = false;  // tempfail@/permfail@/timeout@ of local domains answer 451/550/nothing
  std::uint64_t min_data_rate =
      500;  // bytes per second during DATA/BDAT (Postfix smtpd_min_data_rate)
  SendingLimiter* sending_limiter = nullptr;  // messages per hour per authenticated user
  store::Store* store = nullptr;
  auth::Authenticator* authenticator = nullptr;
  // Called (from a worker thread) when mail for other domains was queued.
  std::function<void()> on_queued;
};

class Session final : public net::ProtocolSession {
 public:
  // Before EHLO/HELO, and again after STARTTLS (RFC 3207 §4.2 discards all knowledge).
  struct Greeted {};
  struct Ready {
    std::string helo_name;
    bool is_esmtp = false;
  };
  using State = std::variant<Greeted, Ready>;

  struct Recipient {
    wire::RcptTo rcpt;
    std::vector<std::string> local_accounts;  // canonical account addresses
    bool is_remote = false;
  };
  struct Transaction {
    wire::MailFrom mail;
    std::vector<Recipient> recipients{};
    std::size_t overshoot = 0;  // recipients refused past max_recipients
    bool used_bdat = false;
    std::string bdat_message{};
    bool bdat_too_big = false;
  };

  Session(SessionSettings settings, net::ClientInfo client);

  net::Output greet() override;
  net::Output receive(std::string& input) override;
  net::Output resume(std::string& input) override;
  void tls_started(const net::TlsInfo& info) override;
  std::string timeout_reply() override;
  std::string shutdown_reply() override;
  std::chrono::seconds idle_timeout() const override { return settings_.idle_timeout; }
  bool is_mid_command() const override;
  std::chrono::steady_clock::duration command_budget() const override;

  const State& state() const { return state_; }
  bool is_tls() const { return is_tls_; }
  const std::optional<Transaction>& transaction() const { return transaction_; }
  const std::optional<store::Account>& account() const { return account_; }

 private:
  // What reads the next bytes.
  struct ReadingCommands {};
  struct ReadingData {
    wire::DataReader reader;
  };
  struct ReadingBdat {
    std::uint64_t remaining;
    bool is_last;
    std::uint64_t received = 0;
  };
  struct ReadingAuth {
    std::string mechanism;  // "PLAIN", "LOGIN" or "SCRAM-SHA-256"
    std::string username;   // LOGIN: after the first answer
    std::shared_ptr<auth::ScramExchange> scram;
  };
  using Reader = std::variant<ReadingCommands, ReadingData, ReadingBdat, ReadingAuth>;

  // Runs the readers over `input` until they need more bytes or a command stops them.
  net::Output process(std::string& input, net::Output out);
  void handle(const wire::Command& cmd, net::Output& out, bool more_input_waiting);
  void error(std::string_view reply_line, net::Output& out);
  // What work left in work_, its error counted (smtp.max_errors: 421 and close).
  net::Output take_work();
  void count_error(std::string_view reply_line) const;
  // After the reply to NOOP, RSET, VRFY or ETRN: past settings_.max_junk_commands, each
  // counts toward max_errors (with its ordinary reply; 421 and close at the limit).
  void junk_command(net::Output& out);
  void reset_transaction();

  // commands/*.cpp
  void ehlo(const wire::Command& cmd, net::Output& out);
  void helo(const wire::Command& cmd, net::Output& out);
  void starttls(const wire::Command& cmd, net::Output& out);
  void mail(const wire::Command& cmd, net::Output& out);
  void rcpt(const wire::Command& cmd, net::Output& out);
  void data(const wire::Command& cmd, net::Output& out, bool more_input_waiting);
  void bdat(const wire::Command& cmd, net::Output& out);
  void auth(const wire::Command& cmd, net::Output& out);
  void auth_response(std::string_view line, net::Output& out);
  void check_password(std::string username, std::string password, net::Output& out);
  void scram_response(std::string_view decoded, net::Output& out);
  // On the worker pool: records the outcome of a login and sets the reply.
  void finish_login(auth::LoginResult result);
  // Builds the trace headers and commits the message (as work); `message` is the text
  // as received.
  void finish_message(std::string message, bool saw_bare_lf, bool too_big, net::Output& out);

  SessionSettings settings_;
  net::ClientInfo client_;
  base::LineSplitter splitter_;
  State state_ = Greeted{};
  Reader reader_ = ReadingCommands{};
  std::optional<Transaction> transaction_;
  std::optional<store::Account> account_;  // after a successful AUTH
  bool is_tls_ = false;
  net::TlsInfo tls_;
  std::int64_t errors_ = 0;
  std::int64_t junk_commands_ = 0;
  std::int64_t auth_failures_ = 0;
  // Filled by work on the worker pool, read by resume() on the session's loop.
  net::WorkResult work_;
  bool work_error_ = false;  // the reply counts toward smtp.max_errors
  std::uint64_t messages_accepted_ = 0;
};

}  // namespace postino::smtp
