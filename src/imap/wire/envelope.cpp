// ENVELOPE formatting; see envelope.hpp.
#include "imap/wire/envelope.hpp"

#include "mime/address.hpp"

namespace postino::imap::wire {
namespace {

// An address field as a parenthesised list of (name adl mailbox host), NIL when empty.
// A missing mailbox or host is named as Dovecot names it, never NIL: NIL host marks
// group syntax.
std::string address_list(std::string_view value) {
  const auto list = mime::parse_address_list(value);
  if (list.empty()) return "NIL";
  std::string out = "(";
  for (const auto& a : list) {
    switch (a.kind) {
      case mime::Address::Kind::group_start:
        out += "(NIL NIL " + nstring(a.mailbox) + " NIL)";
        break;
      case mime::Address::Kind::group_end:
        out += "(NIL NIL NIL NIL)";
        break;
      case mime::Address::Kind::mailbox:
        out += "(" + nstring(a.name) + " " + nstring(a.route) + " " +
               (a.mailbox.empty() ? std::string("\"MISSING_MAILBOX\"") : nstring(a.mailbox)) + " " +
               (a.host.empty() ? std::string("\"MISSING_DOMAIN\"") : nstring(a.host)) + ")";
        break;
    }
  }
  return out + ")";
}

}  // namespace

std::string nstring(std::string_view value) {
  if (value.empty()) return "NIL";
  bool quotable = value.size() <= 1024;
  for (unsigned char c : value) {
    if (c >= 0x80 || c == '\r' || c == '\n' || c == '\0') quotable = false;
  }
  if (!quotable) return "{" + std::to_string(value.size()) + "}\r\n" + std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string format_envelope(const mime::EnvelopeFields& f) {
  const auto from = address_list(f.from);
  const auto sender = f.sender.empty() ? from : address_list(f.sender);
  const auto reply_to = f.reply_to.empty() ? from : address_list(f.reply_to);
  return "(" + nstring(f.date) + " " + nstring(f.subject) + " " + from + " " + sender + " " +
         reply_to + " " + address_list(f.to) + " " + address_list(f.cc) + " " +
         address_list(f.bcc) + " " + nstring(f.in_reply_to) + " " + nstring(f.message_id) + ")";
}

}  // namespace postino::imap::wire
