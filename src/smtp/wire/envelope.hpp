// MAIL FROM and RCPT TO arguments (RFC 5321 §4.1.2, §3.3) with their ESMTP parameters:
// SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (RFC 3461)
// and AUTH (RFC 4954 §5). Pure functions; every error carries the reply to send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace postino::smtp::wire {

struct Mailbox {
  std::string local;   // as sent, without quotes (quoted-pairs resolved)
  std::string domain;  // as sent; an address literal keeps its brackets
  bool is_quoted = false;
  // local@domain, with the local part quoted again if it needs quoting.
  std::string str() const;
};

enum class Body { seven_bit, eight_bit_mime };
enum class Ret { unspecified, full, headers };

struct MailFrom {
  std::optional<Mailbox> sender;  // nullopt: the null reverse-path "<>"
  std::optional<std::uint64_t> size;
  Body body = Body::seven_bit;
  bool smtputf8 = false;
  Ret ret = Ret::unspecified;
  std::string envid;                // xtext-decoded
  std::optional<std::string> auth;  // AUTH=<…> (decoded; "" for AUTH=<>)
};

// RFC 3461 §4.1 NOTIFY: a set, or NEVER.
struct Notify {
  bool never = false, success = false, failure = false, delay = false;
  bool is_given = false;
};

struct RcptTo {
  Mailbox recipient;
  Notify notify;
  std::string orcpt_type;     // "rfc822", …; empty when no ORCPT
  std::string orcpt_address;  // xtext-decoded
};

struct EnvelopeError {
  std::string reply;  // "501 5.1.7 …" without CRLF
};

struct EnvelopeLimits {
  std::size_t max_address_bytes = 320;    // RFC 5321 §4.5.3.1: 64 local + 255 domain (+@)
  std::size_t max_parameter_bytes = 500;  // ORCPT is 500 at most (RFC 3461 §4.2)
};

// Parses the argument of MAIL ("FROM:<a@b> SIZE=10 …").
std::variant<MailFrom, EnvelopeError> parse_mail_from(std::string_view argument,
                                                      const EnvelopeLimits& limits = {});
// Parses the argument of RCPT ("TO:<a@b> NOTIFY=FAILURE …"). RCPT TO:<Postmaster> (no
// domain) is accepted as RFC 5321 §4.1.1.3 requires; its domain is left empty.
std::variant<RcptTo, EnvelopeError> parse_rcpt_to(std::string_view argument,
                                                  const EnvelopeLimits& limits = {});

// RFC 3461 §4: xtext. nullopt when malformed or when it decodes to a control character.
std::optional<std::string> decode_xtext(std::string_view text);
// The xtext form of `text`: "+", "=" and bytes outside "!" … "~" as "+XX".
std::string encode_xtext(std::string_view text);

}  // namespace postino::smtp::wire
