// See transaction.hpp.
#include "smtp/client/transaction.hpp"

#include <charconv>
#include <utility>

#include "base/ascii.hpp"
#include "base/base64.hpp"
#include "smtp/wire/envelope.hpp"

namespace postino::smtp::client {

Transaction::Transaction(OutboundMessage message, ClientPolicy policy)
    : message_(std::move(message)),
      policy_(std::move(policy)),
      results_(message_.recipients.size()) {}

Transaction::Output Transaction::receive(const Reply& reply) {
  switch (state_) {
    case State::greeting:
      // RFC 5321 §3.1: 220, or no service here (554, 421): the next MX may do better.
      if (reply.code != 220) return fail_all(Status::temporary, "greeting: " + reply.summary());
      return send_ehlo();
    case State::ehlo:
      if (reply.code == 250) {
        parse_extensions(reply);
        return after_hello();
      }
      if (reply.is_permanent()) {  // RFC 5321 §4.1.4: an old server; HELO instead
        state_ = State::helo;
        return {"HELO " + policy_.helo_name + "\r\n"};
      }
      return fail_all(Status::temporary, "EHLO: " + reply.summary());
    case State::helo:
      if (reply.code != 250) return fail_all(Status::temporary, "HELO: " + reply.summary());
      return after_hello();
    case State::starttls:
      if (reply.code == 220) {
        Output out;
        out.start_tls = true;  // then tls_started() sends EHLO again
        return out;
      }
      if (policy_.require_tls) {
        return fail_all(Status::temporary,
                        "STARTTLS refused and TLS is required: " + reply.summary());
      }
      return begin_mail();  // RFC 3207 §4: go on in the clear
    case State::auth:
    case State::auth_login_password:
      if (reply.code == 235) return begin_mail();
      // Our credentials or the relay's setup: a matter for the administrator, not a
      // reason to return the mail.
      return fail_all(Status::temporary, "AUTH: " + reply.summary());
    case State::auth_login_user:
      if (reply.code != 334) return fail_all(Status::temporary, "AUTH: " + reply.summary());
      state_ = State::auth_login_password;
      return {base::base64_encode(policy_.auth_password) + "\r\n"};
    case State::mail:
      if (reply.is_positive()) {
        state_ = State::rcpt;
        if (pipelining_) return {};  // the RCPTs are on their way already
        return {rcpt_command(message_.recipients[0])};
      }
      // 4xx: this server cannot take it now, the next may; 5xx: the sender is refused.
      if (reply.is_permanent()) decided_by_server_ = true;
      return fail_all(reply.is_permanent() ? Status::permanent : Status::temporary,
                      reply.summary());
    case State::rcpt: {
      auto& result = results_[next_rcpt_reply_];
      decided_by_server_ = true;
      if (reply.is_positive()) {
        ++accepted_;
      } else {
        result.status = reply.is_permanent() ? Status::permanent : Status::temporary;
        result.reply = reply.summary();
      }
      ++next_rcpt_reply_;
      if (next_rcpt_reply_ < message_.recipients.size()) {
        if (pipelining_) return {};
        return {rcpt_command(message_.recipients[next_rcpt_reply_])};
      }
      state_ = State::data;
      if (data_pipelined_) return {};  // its reply comes next
      if (accepted_ == 0) return quit();
      if (chunking_) {
        // RFC 3030: the message in one chunk of its exact size; nothing to stuff.
        state_ = State::body;
        Output out{"BDAT " + std::to_string(message_.size) + " LAST\r\n"};
        out.send_body = true;
        out.raw_body = true;
        return out;
      }
      return {"DATA\r\n"};
    }
    case State::data:
      if (accepted_ == 0) return quit();  // the pipelined DATA was refused, as it had to be
      if (reply.code == 354) {
        state_ = State::body;
        Output out;
        out.send_body = true;
        return out;
      }
      return fail_all(reply.is_permanent() ? Status::permanent : Status::temporary,
                      "DATA: " + reply.summary());
    case State::body:
      // RFC 5321 §4.1.1.4: one reply for the whole message, for every accepted recipient.
      return fail_all(reply.is_positive()    ? Status::sent
                      : reply.is_permanent() ? Status::permanent
                                             : Status::temporary,
                      reply.summary());
    case State::done:
      return {};
  }
  return {};
}

Transaction::Output Transaction::tls_started() {
  is_tls_ = true;
  // RFC 3207 §4.2: forget what the server said before TLS, and ask again.
  pipelining_ = starttls_ = eight_bit_ = smtputf8_ = dsn_ = size_ = chunking_ = false;
  auth_plain_ = auth_login_ = false;
  max_size_ = 0;
  return send_ehlo();
}

Transaction::Output Transaction::send_ehlo() {
  state_ = State::ehlo;
  return {"EHLO " + policy_.helo_name + "\r\n"};
}

void Transaction::parse_extensions(const Reply& reply) {
  // The first line is the server's name; each further line one extension (RFC 5321 §4.1.1.1).
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    const auto& line = reply.lines[i];
    const auto space = line.find(' ');
    const auto keyword = base::to_upper(std::string_view(line).substr(0, space));
    if (keyword == "PIPELINING") pipelining_ = true;
    if (keyword == "STARTTLS") starttls_ = true;
    if (keyword == "8BITMIME") eight_bit_ = true;
    if (keyword == "SMTPUTF8") smtputf8_ = true;
    if (keyword == "DSN") dsn_ = true;
    if (keyword == "SIZE") size_ = true;
    if (keyword == "CHUNKING") chunking_ = true;
    if (keyword == "AUTH") {
      const auto upper = base::to_upper(line);
      for (std::size_t at = 0; at < upper.size();) {
        auto end = upper.find(' ', at);
        if (end == std::string::npos) end = upper.size();
        const auto mechanism = std::string_view(upper).substr(at, end - at);
        if (mechanism == "PLAIN") auth_plain_ = true;
        if (mechanism == "LOGIN") auth_login_ = true;
        at = end + 1;
      }
    }
    if (keyword == "SIZE" && space != std::string::npos) {
      const auto value = std::string_view(line).substr(space + 1);
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc{}) max_size_ = n;
    }
  }
}

Transaction::Output Transaction::after_hello() {
  if (!is_tls_ && starttls_ && policy_.can_tls) {
    state_ = State::starttls;
    return {"STARTTLS\r\n"};
  }
  if (!is_tls_ && policy_.require_tls) {
    return fail_all(Status::temporary, "TLS is required and the server does not offer STARTTLS");
  }
  if (!policy_.auth_user.empty()) return authenticate();
  return begin_mail();
}

Transaction::Output Transaction::authenticate() {
  if (!is_tls_) {
    return fail_all(Status::temporary,
                    "451 4.7.0 The relay host offers no TLS: credentials are never sent in the "
                    "clear");
  }
  if (auth_plain_) {
    // RFC 4616: authorization identity empty, then the user and the password.
    state_ = State::auth;
    std::string response;
    response.push_back('\0');
    response += policy_.auth_user;
    response.push_back('\0');
    response += policy_.auth_password;
    return {"AUTH PLAIN " + base::base64_encode(response) + "\r\n"};
  }
  if (auth_login_) {
    state_ = State::auth_login_user;
    return {"AUTH LOGIN " + base::base64_encode(policy_.auth_user) + "\r\n"};
  }
  return fail_all(Status::temporary,
                  "451 4.7.0 The relay host offers neither AUTH PLAIN nor AUTH LOGIN");
}

Transaction::Output Transaction::begin_mail() {
  // What this server says it cannot take is bounced now (another MX of the domain would
  // say the same): RFC 1870 §6, RFC 6152 §3, RFC 6531 §3.2.
  if (max_size_ > 0 && message_.size > max_size_) {
    return refuse("552 5.3.4 The message is larger than the receiving server takes (" +
                  std::to_string(max_size_) + " bytes)");
  }
  if (message_.has_8bit && !eight_bit_) {
    return refuse(
        "554 5.6.3 The message has 8-bit data and the receiving server does not take it (no "
        "8BITMIME)");
  }
  if (message_.needs_smtputf8 && !smtputf8_) {
    return refuse(
        "553 5.6.7 The message needs SMTPUTF8 and the receiving server does not offer it");
  }
  state_ = State::mail;
  Output out{mail_command()};
  if (pipelining_) {
    // RFC 2920 §3.1: MAIL, every RCPT and DATA in one group; the replies come in order.
    for (const auto& r : message_.recipients) out.bytes += rcpt_command(r);
    if (!chunking_) {  // BDAT waits for an accepted recipient: its bytes are the message
      out.bytes += "DATA\r\n";
      data_pipelined_ = true;
    }
  }
  return out;
}

std::string Transaction::mail_command() const {
  std::string out = "MAIL FROM:<" + message_.sender + ">";
  if (size_) out += " SIZE=" + std::to_string(message_.size);
  if (message_.has_8bit && eight_bit_) out += " BODY=8BITMIME";
  if (message_.needs_smtputf8 && smtputf8_) out += " SMTPUTF8";
  if (dsn_) {
    if (message_.ret == 1) out += " RET=FULL";
    if (message_.ret == 2) out += " RET=HDRS";
    if (!message_.envid.empty()) out += " ENVID=" + wire::encode_xtext(message_.envid);
  }
  return out + "\r\n";
}

std::string Transaction::rcpt_command(const OutboundRecipient& r) const {
  std::string out = "RCPT TO:<" + r.address + ">";
  if (dsn_ && r.notify != 0) {
    if (r.notify & 1) {
      out += " NOTIFY=NEVER";
    } else {
      std::string list;
      if (r.notify & 2) list += ",SUCCESS";
      if (r.notify & 4) list += ",FAILURE";
      if (r.notify & 8) list += ",DELAY";
      if (!list.empty()) out += " NOTIFY=" + list.substr(1);
    }
  }
  if (dsn_ && !r.orcpt.empty()) {
    const auto semicolon = r.orcpt.find(';');
    if (semicolon != std::string::npos) {
      out += " ORCPT=" + r.orcpt.substr(0, semicolon + 1) +
             wire::encode_xtext(std::string_view(r.orcpt).substr(semicolon + 1));
    }
  }
  return out + "\r\n";
}

void Transaction::settle_pending(Status status, const std::string& why) {
  for (auto& r : results_) {
    if (r.status != Status::pending) continue;
    r.status = status;
    r.reply = why;
  }
}

Transaction::Output Transaction::fail_all(Status status, const std::string& why) {
  settle_pending(status, why);
  return quit();
}

Transaction::Output Transaction::refuse(const std::string& why) {
  decided_by_server_ = true;
  return fail_all(Status::permanent, why);
}

Transaction::Output Transaction::quit() {
  state_ = State::done;
  Output out{"QUIT\r\n"};
  out.close = true;  // the 221 adds nothing; the outcome is known
  return out;
}

void Transaction::connection_failed(const std::string& reason) {
  settle_pending(Status::temporary, reason);
  state_ = State::done;
}

bool Transaction::try_next_server() const {
  if (decided_by_server_) return false;
  for (const auto& r : results_) {
    if (r.status == Status::temporary) return true;
  }
  return false;
}

}  // namespace postino::smtp::client
