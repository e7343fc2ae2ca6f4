// AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN and SCRAM-SHA-256 (RFC 5802, 7677), on
// submission only and only inside
// TLS (RFC 8314 §3). Passwords are checked by the authentication service on the worker
// pool; failures are answered after the service's delay, and too many end the session.
#include "auth/sasl_plain.hpp"
#include "base/ascii.hpp"
#include "base/base64.hpp"
#include "smtp/session.hpp"
#include "smtp/wire/reply.hpp"

namespace postino::smtp {
void Session::auth(const wire::Command& cmd, net::Output& out) {
  if (!settings_.is_submission) return error(reply::c502_auth_not_enabled, out);
  // RFC 4954 §4: no password before TLS; it is never looked at (RELIABILITY T03).
  if (!is_tls_) return error(reply::c530_starttls_first, out);
  if (std::holds_alternative<Greeted>(state_)) return error(reply::c503_send_helo_first, out);
  if (account_) return error(reply::c503_already_authenticated, out);
  if (transaction_) return error(reply::c503_auth_in_transaction, out);
  const auto space = cmd.argument.find(' ');
  const auto mechanism = base::to_upper(cmd.argument.substr(0, space));
  const auto initial =
      space == std::string_view::npos ? std::string_view{} : cmd.argument.substr(space + 1);
  if (mechanism.empty()) return error(reply::c501_auth_syntax, out);
  if (mechanism != "PLAIN" && mechanism != "LOGIN" && mechanism != "SCRAM-SHA-256") {
    return error(reply::c504_unknown_mechanism, out);
  }
  reader_ = ReadingAuth{mechanism, {}, nullptr};
  if (mechanism == "SCRAM-SHA-256")
    std::get<ReadingAuth>(reader_).scram = std::make_shared<auth::ScramExchange>();
  if (space == std::string_view::npos) {
    out.bytes += reply::line(mechanism == "LOGIN" ? reply::c334_username : reply::c334_empty);
    return;
  }
  // An initial response (RFC 4954 §4: "=" stands for an empty one) is the first answer.
  auth_response(initial == "=" ? std::string_view{} : initial, out);
}

void Session::auth_response(std::string_view line, net::Output& out) {
  auto state = std::get<ReadingAuth>(reader_);
  if (line == "*") {  // RFC 4954 §4: the client cancels
    reader_ = ReadingCommands{};
    return error(reply::c501_auth_aborted, out);
  }
  auto decoded = base::base64_decode(line);
  if (!decoded) {
    reader_ = ReadingCommands{};
    return error(reply::c501_cannot_decode, out);
  }
  if (state.mechanism == "SCRAM-SHA-256") return scram_response(*decoded, out);
  if (state.mechanism == "PLAIN") {
    reader_ = ReadingCommands{};
    auto credentials = auth::decode_plain(*decoded);
    if (!credentials) {
      // Malformed, or acting for another user: a failed login like any other.
      return check_password("", "", out);
    }
    return check_password(std::move(credentials->authcid), std::move(credentials->password), out);
  }
  // LOGIN: the user name, then the password.
  if (state.username.empty()) {
    if (decoded->empty()) {
      reader_ = ReadingCommands{};
      return error(reply::c501_auth_aborted, out);
    }
    std::get<ReadingAuth>(reader_).username = std::move(*decoded);
    out.bytes += reply::line(reply::c334_password);
    return;
  }
  reader_ = ReadingCommands{};
  check_password(std::move(state.username), std::move(*decoded), out);
}

void Session::scram_response(std::string_view decoded, net::Output& out) {
  auto scram = std::get<ReadingAuth>(reader_).scram;
  auto step = scram->receive(decoded);
  using Next = auth::ScramExchange::Next;
  switch (step.next) {
    case Next::send_server_first:
      // The user's keys (or decoys for an unknown user) come from the store.
      out.after = net::After::work;
      out.work = [this, scram] {
        work_.reply = "334 " +
                      base::base64_encode(settings_.authenticator->scram_server_first(*scram)) +
                      "\r\n";
      };
      return;
    case Next::send_server_final:
      // RFC 4954 §4: success data travels in a 334; the client answers with an empty line.
      out.bytes += "334 " + base::base64_encode(step.message) + "\r\n";
      return;
    case Next::malformed:
      reader_ = ReadingCommands{};
      return error(reply::c501_cannot_decode, out);
    case Next::aborted:
      reader_ = ReadingCommands{};
      return error(reply::c501_auth_aborted, out);
    case Next::finish:
      reader_ = ReadingCommands{};
      out.after = net::After::work;
      out.work = [this, username = scram->username(), proof_ok = step.proof_ok] {
        finish_login(settings_.authenticator->finish_scram(username, proof_ok, client_.address,
                                                           client_.session_id));
      };
      return;
  }
}

void Session::check_password(std::string username, std::string password, net::Output& out) {
  out.after = net::After::work;
  out.work_checks_password = true;
  out.work = [this, username = std::move(username), password = std::move(password)] {
    finish_login(settings_.authenticator->check_password(username, password, client_.address,
                                                         client_.session_id));
  };
}

void Session::finish_login(auth::LoginResult result) {
  switch (result.status) {
    case auth::LoginResult::Status::ok:
      account_ = std::move(result.account);
      work_.reply = reply::line(reply::c235_authenticated);
      return;
    case auth::LoginResult::Status::temporary:
      work_.reply = reply::line(reply::c454_auth_unavailable);
      return;
    case auth::LoginResult::Status::failed:
      work_.delay = result.delay;
      work_.reply = reply::line(reply::c535_bad_credentials);
      work_error_ = true;
      // Stalwart-like: a few failures end the session (RELIABILITY A01).
      if (++auth_failures_ >= settings_.max_auth_failures) {
        work_.reply += reply::with_host(reply::c421_too_many_auth_failures, settings_.hostname);
        work_.closes = true;
      }
      return;
  }
}

}  // namespace postino::smtp
