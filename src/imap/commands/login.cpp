// LOGIN (RFC 3501 §6.2.3) and AUTHENTICATE PLAIN (§6.2.2, RFC 4959 SASL-IR), only inside
// TLS unless plaintext from loopback is allowed. Passwords are checked by the
// authentication service on the worker pool; failures answer NO [AUTHENTICATIONFAILED]
// after its delay (RFC 5530), and too many end the session.
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
  if (base::to_upper(cmd.arguments[0].value) != "PLAIN") {
    out.bytes += wire::tagged(cmd.tag, "NO [CANNOT] Unsupported authentication mechanism");
    return;
  }
  sasl_tag_ = cmd.tag;
  if (cmd.arguments.size() == 1) {
    out.bytes += "+ \r\n";
    return;
  }
  // RFC 4959: the initial response; "=" is an empty one.
  const auto& initial = cmd.arguments[1].value;
  sasl_response(initial == "=" ? std::string_view{} : std::string_view(initial), out);
}

void Session::sasl_response(std::string_view line, net::Output& out) {
  const auto tag = *std::exchange(sasl_tag_, std::nullopt);
  if (line == "*") return bad(tag, "Authentication aborted", out);  // RFC 3501 §6.2.2
  auto decoded = base::base64_decode(line);
  if (!decoded) return bad(tag, "Cannot decode response", out);
  auto credentials = auth::decode_plain(*decoded);
  if (!credentials) return check_password(tag, "", "", out);
  check_password(tag, std::move(credentials->authcid), std::move(credentials->password), out);
}

void Session::check_password(std::string tag, std::string username, std::string password,
                             net::Output& out) {
  out.after = net::After::work;
  out.work = [this, tag = std::move(tag), username = std::move(username),
              password = std::move(password)] {
    auto result = settings_.authenticator->check_password(username, password, client_.address,
                                                          client_.session_id);
    switch (result.status) {
      case auth::LoginResult::Status::ok:
        state_ = Authenticated{std::move(*result.account)};
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
  };
}

}  // namespace postino::imap
