// LOGIN (RFC 3501 §6.2.3) and AUTHENTICATE PLAIN, LOGIN and SCRAM-SHA-256 (§6.2.2,
// RFC 4959 SASL-IR), only inside TLS unless plaintext from loopback is allowed. Passwords are
// checked by the authentication service on the worker pool; failures answer NO
// [AUTHENTICATIONFAILED] after its delay (RFC 5530), and too many end the session.
#include "auth/sasl_plain.hpp"
#include "base/ascii.hpp"
#include "base/base64.hpp"
#include "imap/session.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {

bool Session::may_use_plaintext() const {
  return is_tls_ || (settings_.allow_plaintext_loopback && client_.is_loopback);
}

void Session::login(const wire::Command& cmd, net::Output& out) {
  if (!may_use_plaintext()) {
    // LOGINDISABLED: a tagged NO, and the password is never looked at (RELIABILITY T03).
    out.bytes += wire::tagged(cmd.tag, "NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS");
    return;
  }
  if (cmd.arguments.size() != 2 || !cmd.arguments[0].is_astring() ||
      !cmd.arguments[1].is_astring()) {
    return bad(cmd.tag, "Syntax: LOGIN userid password", out);
  }
  check_password(cmd.tag, cmd.arguments[0].value, cmd.arguments[1].value, out);
}

void Session::authenticate(const wire::Command& cmd, net::Output& out) {
  if (!may_use_plaintext()) {
    out.bytes +=
        wire::tagged(cmd.tag, "NO [PRIVACYREQUIRED] Authentication is disabled before STARTTLS");
    return;
  }
  if (cmd.arguments.empty() || cmd.arguments.size() > 2 ||
      cmd.arguments[0].type != wire::Token::Type::atom) {
    return bad(cmd.tag, "Syntax: AUTHENTICATE mechanism [initial-response]", out);
  }
  const auto mechanism = base::to_upper(cmd.arguments[0].value);
  if (mechanism != "PLAIN" && mechanism != "LOGIN" && mechanism != "SCRAM-SHA-256") {
    out.bytes += wire::tagged(cmd.tag, "NO [CANNOT] Unsupported authentication mechanism");
    return;
  }
  sasl_ = SaslExchange{cmd.tag, mechanism, {}, nullptr};
  if (mechanism == "SCRAM-SHA-256") sasl_->scram = std::make_shared<auth::ScramExchange>();
  if (cmd.arguments.size() == 1) {
    // RFC 4616 and SCRAM start with the client; LOGIN asks for the user name first.
    out.bytes += mechanism == "LOGIN" ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n";
    return;
  }
  // RFC 4959: the initial response; "=" is an empty one.
  const auto& initial = cmd.arguments[1].value;
  sasl_response(initial == "=" ? std::string_view{} : std::string_view(initial), out);
}

void Session::sasl_response(std::string_view line, net::Output& out) {
  if (line == "*") {  // RFC 3501 §6.2.2
    return bad(std::exchange(sasl_, std::nullopt)->tag, "Authentication aborted", out);
  }
  auto decoded = base::base64_decode(line);
  if (!decoded) return bad(std::exchange(sasl_, std::nullopt)->tag, "Cannot decode response", out);
  if (sasl_->mechanism == "SCRAM-SHA-256") return scram_response(*decoded, out);
  auto exchange = std::move(*std::exchange(sasl_, std::nullopt));
  if (exchange.mechanism == "PLAIN") {
    auto credentials = auth::decode_plain(*decoded);
    if (!credentials) return check_password(exchange.tag, "", "", out);
    return check_password(exchange.tag, std::move(credentials->authcid),
                          std::move(credentials->password), out);
  }
  // LOGIN (draft-murchison-sasl-login): the user name, then the password.
  if (exchange.username.empty()) {
    if (decoded->empty()) return bad(exchange.tag, "Authentication aborted", out);
    exchange.username = std::move(*decoded);
    sasl_ = std::move(exchange);
    out.bytes += "+ UGFzc3dvcmQ6\r\n";
    return;
  }
  check_password(exchange.tag, std::move(exchange.username), std::move(*decoded), out);
}

// SCRAM-SHA-256 (RFC 5802, RFC 7677): client-first → server-first (keys from the store,
// decoys for unknown users), client-final → server-final with the signature, then an empty
// response before the tagged OK (RFC 3501 allows no data with OK).
void Session::scram_response(std::string_view decoded, net::Output& out) {
  auto scram = sasl_->scram;
  auto step = scram->receive(decoded);
  using Next = auth::ScramExchange::Next;
  switch (step.next) {
    case Next::send_server_first:
      out.after = net::After::work;
      out.work = [this, scram] {
        work_.reply = "+ " +
                      base::base64_encode(settings_.authenticator->scram_server_first(*scram)) +
                      "\r\n";
      };
      return;
    case Next::send_server_final:
      out.bytes += "+ " + base::base64_encode(step.message) + "\r\n";
      return;
    case Next::malformed:
      return bad(std::exchange(sasl_, std::nullopt)->tag, "Invalid SCRAM message", out);
    case Next::aborted:
      return bad(std::exchange(sasl_, std::nullopt)->tag, "Authentication aborted", out);
    case Next::finish: {
      auto tag = std::exchange(sasl_, std::nullopt)->tag;
      out.after = net::After::work;
      out.work = [this, tag = std::move(tag), username = scram->username(),
                  proof_ok = step.proof_ok] {
        finish_login(tag, settings_.authenticator->finish_scram(username, proof_ok, client_.address,
                                                                client_.session_id));
      };
      return;
    }
  }
}

void Session::check_password(std::string tag, std::string username, std::string password,
                             net::Output& out) {
  out.after = net::After::work;
  out.work_checks_password = true;
  out.work = [this, tag = std::move(tag), username = std::move(username),
              password = std::move(password)] {
    finish_login(tag, settings_.authenticator->check_password(username, password, client_.address,
                                                              client_.session_id));
  };
}

void Session::finish_login(const std::string& tag, auth::LoginResult result) {
  switch (result.status) {
    case auth::LoginResult::Status::ok:
      state_ = Authenticated{std::move(*result.account)};
      warm_inbox(std::get<Authenticated>(state_).account.id);
      bad_commands_ = 0;
      receiver_.set_limits({settings_.max_line_bytes, settings_.max_append_bytes, 32, 10000});
      work_.reply = wire::tagged(tag, "OK [CAPABILITY " + capabilities() + "] Logged in");
      return;
    case auth::LoginResult::Status::temporary:
      work_.reply = wire::tagged(tag, "NO [UNAVAILABLE] Temporary authentication failure");
      return;
    case auth::LoginResult::Status::failed:
      work_.delay = result.delay;
      work_.reply = wire::tagged(tag, "NO [AUTHENTICATIONFAILED] Authentication failed");
      if (++auth_failures_ >= settings_.max_auth_failures) {
        work_.reply += "* BYE Too many failed logins\r\n";
        work_.closes = true;
      }
      return;
  }
}

// Most clients SELECT INBOX (or ask its STATUS) right after logging in. INBOX's summary is
// read here, on the worker that checked the password, and thrown away: that SELECT then
// finds the pages it reads in memory and is answered on the event loop (store/no_wait.hpp)
// rather than sent to a worker, and runs with the code and data it goes through back in
// the CPU's caches, which a memory-hard hash (yescrypt's 16 MiB) has just emptied. A
// 100,000-message INBOX's warm SELECT after a yescrypt LOGIN, medians of runs of 21:
// 163-219 -> 124-158 us.
// SELECT reads the mailbox again, as it is then; this costs tens of microseconds, or a few
// reads from the disk, next to a hash of 50 ms.
void Session::warm_inbox(store::AccountId account) {
  (void)settings_.store->mailbox_summary(account, "INBOX");
}

}  // namespace postino::imap
