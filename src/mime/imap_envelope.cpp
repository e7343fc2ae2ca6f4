// ENVELOPE formatting; see imap_envelope.hpp.
#include "mime/imap_envelope.hpp"

#include "mime/address.hpp"

namespace postino::mime {
namespace {

// An address field as a parenthesised list of (name adl mailbox host), NIL when empty.
// A missing mailbox or host is named as Dovecot names it, never NIL: NIL host marks
// group syntax.
void append_address_list(std::string& out, std::string_view value) {
  const auto list = parse_address_list(value);
  if (list.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const auto& a : list) {
    switch (a.kind) {
      case Address::Kind::group_start:
        out += "(NIL NIL ";
        append_imap_nstring(out, a.mailbox);
        out += " NIL)";
        break;
      case Address::Kind::group_end:
        out += "(NIL NIL NIL NIL)";
        break;
      case Address::Kind::mailbox:
        out += '(';
        append_imap_nstring(out, a.name);
        out += ' ';
        append_imap_nstring(out, a.route);
        out += ' ';
        if (a.mailbox.empty()) {
          out += "\"MISSING_MAILBOX\"";
        } else {
          append_imap_nstring(out, a.mailbox);
        }
        out += ' ';
        if (a.host.empty()) {
          out += "\"MISSING_DOMAIN\"";
        } else {
          append_imap_nstring(out, a.host);
        }
        out += ')';
        break;
    }
  }
  out += ')';
}

}  // namespace

void append_imap_nstring(std::string& out, std::string_view value) {
  if (value.empty()) {
    out += "NIL";
    return;
  }
  bool quotable = value.size() <= 1024;
  std::size_t escapes = 0;
  for (const unsigned char c : value) {
    if (c >= 0x80 || c == '\r' || c == '\n' || c == '\0') {
      quotable = false;
      break;
    }
    escapes += c == '"' || c == '\\';
  }
  if (!quotable) {
    out += '{';
    out += std::to_string(value.size());
    out += "}\r\n";
    out += value;
    return;
  }
  out += '"';
  if (escapes == 0) {
    out += value;  // most values: one copy
  } else {
    for (const char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  out += '"';
}

std::string imap_nstring(std::string_view value) {
  std::string out;
  append_imap_nstring(out, value);
  return out;
}

void append_imap_envelope(std::string& out, const EnvelopeFields& f) {
  out += '(';
  append_imap_nstring(out, f.date);
  out += ' ';
  append_imap_nstring(out, f.subject);
  out += ' ';
  // Sender and Reply-To fall back to From: formatted once.
  const auto from_at = out.size();
  append_address_list(out, f.from);
  const auto from_end = out.size();
  // Room first, so that appending from itself never reallocates while it copies.
  const auto copy_from = [&] {
    out.reserve(out.size() + (from_end - from_at));
    out.append(out, from_at, from_end - from_at);
  };
  out += ' ';
  if (f.sender.empty()) {
    copy_from();
  } else {
    append_address_list(out, f.sender);
  }
  out += ' ';
  if (f.reply_to.empty()) {
    copy_from();
  } else {
    append_address_list(out, f.reply_to);
  }
  for (const auto* field : {&f.to, &f.cc, &f.bcc}) {
    out += ' ';
    append_address_list(out, *field);
  }
  out += ' ';
  append_imap_nstring(out, f.in_reply_to);
  out += ' ';
  append_imap_nstring(out, f.message_id);
  out += ')';
}

std::string format_imap_envelope(const EnvelopeFields& f) {
  std::string out;
  append_imap_envelope(out, f);
  return out;
}

}  // namespace postino::mime
