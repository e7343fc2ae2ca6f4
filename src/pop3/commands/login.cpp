// USER/PASS (RFC 1939 §7) and AUTH PLAIN/LOGIN (RFC 5034), only inside TLS unless
// plaintext from loopback is allowed (RELIABILITY T03: the password is never looked at
// otherwise). A successful login locks the maildrop and takes its snapshot.
#include <cstdio>

#include "auth/sasl_plain.hpp"
#include "base/ascii.hpp"
#include "base/base64.hpp"
#include "pop3/session.hpp"

namespace postino::pop3 {
namespace {

constexpr const char* plaintext_refused =
    "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n";

}  // namespace

void Session::user(const wire::Command& cmd, net::Output& out) {
  if (!may_use_plaintext()) {
    out.bytes += plaintext_refused;
    return;
  }
  if (cmd.arguments.size() != 1) return bad("USER takes one argument", out);
  std::get<Authorization>(state_).user = std::string(cmd.arguments[0]);
  // RFC 1939 §7 allows +OK for any name: nothing tells whether the user exists.
  out.bytes += "+OK Send your password\r\n";
}

void Session::pass(std::string_view password, net::Output& out) {
  if (!may_use_plaintext()) {
    out.bytes += plaintext_refused;
    return;
  }
  auto& authorization = std::get<Authorization>(state_);
  if (authorization.user.empty()) return bad("No USER given", out);
  login(std::exchange(authorization.user, {}), std::string(password), out);
}

void Session::auth(const wire::Command& cmd, net::Output& out) {
  if (!may_use_plaintext()) {
    out.bytes += plaintext_refused;
    return;
  }
  if (cmd.arguments.empty() || cmd.arguments.size() > 2)
    return bad("Syntax: AUTH mechanism [initial-response]", out);
  const auto mechanism = base::to_upper(cmd.arguments[0]);
  if (mechanism != "PLAIN" && mechanism != "LOGIN" && mechanism != "SCRAM-SHA-256") {
    out.bytes += "-ERR Unsupported authentication mechanism\r\n";
    return;
  }
  auth_ = ReadingAuth{mechanism, {}, nullptr};
  if (mechanism == "SCRAM-SHA-256") auth_->scram = std::make_shared<auth::ScramExchange>();
  if (cmd.arguments.size() == 1) {
    out.bytes += mechanism == "LOGIN" ? "+ VXNlcm5hbWU6\r\n" : "+ \r\n";
    return;
  }
  // RFC 5034 §4: an initial response; "=" is an empty one.
  auth_response(cmd.arguments[1] == "=" ? std::string_view{} : cmd.arguments[1], out);
}

void Session::auth_response(std::string_view line, net::Output& out) {
  auto state = std::move(*auth_);
  auth_.reset();
  if (line == "*") {
    out.bytes += "-ERR Authentication aborted\r\n";
    return;
  }
  auto decoded = base::base64_decode(line);
  if (!decoded) {
    out.bytes += "-ERR Cannot decode response\r\n";
    return;
  }
  if (state.mechanism == "SCRAM-SHA-256") return scram_response(std::move(state), *decoded, out);
  if (state.mechanism == "PLAIN") {
    auto credentials = auth::decode_plain(*decoded);
    if (!credentials) return login("", "", out);
    return login(std::move(credentials->authcid), std::move(credentials->password), out);
  }
  if (state.username.empty()) {
    if (decoded->empty()) {
      out.bytes += "-ERR Authentication aborted\r\n";
      return;
    }
    auth_ = ReadingAuth{"LOGIN", std::move(*decoded), nullptr};
    out.bytes += "+ UGFzc3dvcmQ6\r\n";
    return;
  }
  login(std::move(state.username), std::move(*decoded), out);
}

void Session::scram_response(ReadingAuth state, std::string_view decoded, net::Output& out) {
  auto scram = state.scram;
  auto step = scram->receive(decoded);
  using Next = auth::ScramExchange::Next;
  switch (step.next) {
    case Next::send_server_first:
      auth_ = std::move(state);  // the exchange goes on
      // The user's keys (or decoys for an unknown user) come from the store.
      out.after = net::After::work;
      out.work = [this, scram] {
        work_.reply = "+ " +
                      base::base64_encode(settings_.authenticator->scram_server_first(*scram)) +
                      "\r\n";
      };
      return;
    case Next::send_server_final:
      auth_ = std::move(state);
      out.bytes += "+ " + base::base64_encode(step.message) + "\r\n";
      return;
    case Next::malformed:
      out.bytes += "-ERR Cannot decode response\r\n";
      return;
    case Next::aborted:
      out.bytes += "-ERR Authentication aborted\r\n";
      return;
    case Next::finish:
      out.after = net::After::work;
      out.work = [this, username = scram->username(), proof_ok = step.proof_ok] {
        finish_login(settings_.authenticator->finish_scram(username, proof_ok, client_.address,
                                                           client_.session_id));
      };
      return;
  }
}

void Session::login(std::string username, std::string password, net::Output& out) {
  out.after = net::After::work;
  out.work_checks_password = true;
  out.work = [this, username = std::move(username), password = std::move(password)] {
    finish_login(settings_.authenticator->check_password(username, password, client_.address,
                                                         client_.session_id));
  };
}

void Session::finish_login(auth::LoginResult result) {
  if (result.status == auth::LoginResult::Status::temporary) {
    work_.reply = "-ERR [SYS/TEMP] Temporary authentication failure\r\n";
    return;
  }
  if (result.status == auth::LoginResult::Status::failed) {
    work_.delay = result.delay;
    work_.reply = "-ERR [AUTH] Authentication failed\r\n";
    if (++auth_failures_ >= settings_.max_auth_failures) {
      work_.reply += "-ERR Too many failed logins, closing\r\n";
      work_.closes = true;
    }
    return;
  }
  const auto& account = *result.account;
  // RFC 1939 §8 / RFC 2449 §8.1.1: one session per maildrop.
  if (!settings_.locks->try_lock(account.id)) {
    work_.reply = "-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n";
    return;
  }
  locked_ = account.id;
  auto inbox = settings_.store->mailbox(account.id, "INBOX");
  auto list = inbox ? settings_.store->messages(account.id, inbox->id)
                    : store::Result<std::vector<store::MessageInfo>>(inbox.error());
  if (!list) {
    settings_.locks->unlock(account.id);
    locked_.reset();
    work_.reply = "-ERR [SYS/TEMP] Mailbox unavailable, try again later\r\n";
    return;
  }
  Transaction t{account, inbox->id, {}};
  for (const auto& m : *list) {
    // Stable for the life of the message and across restarts: UID and UIDVALIDITY, the
    // form Dovecot's default pop3_uidl_format (%08Xu%08Xv) gives.
    char uidl[24];
    std::snprintf(uidl, sizeof uidl, "%08X%08X", m.uid.value, inbox->uid_validity.value);
    t.messages.push_back({m.uid, m.size, uidl, false});
  }
  state_ = std::move(t);
  work_.reply = "+OK Logged in\r\n";
}

}  // namespace postino::pop3
