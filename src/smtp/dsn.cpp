// See dsn.hpp.
#include "smtp/dsn.hpp"

#include "smtp/trace.hpp"

namespace postino::smtp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

const char* action_name(DsnRecipient::Action a) {
  switch (a) {
    case DsnRecipient::Action::failed:
      return "failed";
    case DsnRecipient::Action::delayed:
      return "delayed";
    case DsnRecipient::Action::delivered:
      return "delivered";
    case DsnRecipient::Action::relayed:
      return "relayed";
  }
  return "failed";
}

// RFC 3464 §2.3.6: the diagnostic with its type; an SMTP reply is "smtp;", anything we
// say ourselves "x-postino;".
std::string diagnostic_code(const DsnRecipient& r) {
  const auto& d = r.diagnostic;
  const bool is_reply =
      d.size() >= 3 && is_digit(d[0]) && is_digit(d[1]) && is_digit(d[2]) && !r.remote_mta.empty();
  return (is_reply ? "smtp; " : "x-postino; ") + d;
}

// A remote server's words in our us-ascii parts: other bytes shown as "?".
std::string ascii_only(std::string text) {
  for (auto& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) c = '?';
  }
  return text;
}

// The original's header block, with its blank line.
std::string_view header_of(std::string_view message) {
  const auto end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 4);
}

}  // namespace

std::string dsn_status(const DsnRecipient& r) {
  const auto& d = r.diagnostic;
  const bool is_reply = d.size() >= 3 && is_digit(d[0]) && is_digit(d[1]) && is_digit(d[2]) &&
                        (d.size() == 3 || d[3] == ' ');
  if (is_reply && d.size() > 9 && d[4] == d[0] && d[5] == '.') {
    // "550 5.1.1 …": the enhanced code after the reply code, of the same class. A failure
    // that ends a run of temporary ones keeps its 4.x.x, as Postfix reports it.
    std::size_t i = 5, dots = 0;
    while (i < d.size() && (is_digit(d[i]) || d[i] == '.')) dots += d[i++] == '.';
    if (dots == 2 && d[i - 1] != '.' && (i == d.size() || d[i] == ' ')) return d.substr(4, i - 4);
  }
  if (is_reply && d[0] >= '2' && d[0] <= '5') return std::string(1, d[0]) + ".0.0";
  return r.action == DsnRecipient::Action::failed    ? "5.0.0"
         : r.action == DsnRecipient::Action::delayed ? "4.0.0"
                                                     : "2.0.0";
}

std::string compose_dsn(const DsnInput& in) {
  bool any_failed = false;
  for (const auto& r : in.recipients) any_failed |= r.action == DsnRecipient::Action::failed;
  bool all_delivered = true;
  for (const auto& r : in.recipients) {
    all_delivered &=
        r.action == DsnRecipient::Action::delivered || r.action == DsnRecipient::Action::relayed;
  }
  const std::string subject = any_failed      ? "Undelivered Mail Returned to Sender"
                              : all_delivered ? "Successful Mail Delivery Report"
                                              : "Delayed Mail (still being retried)";
  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" + in.reporting_mta + ">\r\n";
  out += "To: <" + in.sender + ">\r\n";
  out += "Subject: " + subject + "\r\n";
  out += "Date: " + rfc5322_date(in.now) + "\r\n";
  out += "Message-ID: " + in.message_id + "\r\n";
  out += "Auto-Submitted: auto-replied\r\n";  // RFC 3834 §5
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
  out += "\tboundary=\"" + in.boundary + "\"\r\n";
  out += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  // The part people read.
  out += "--" + in.boundary + "\r\n";
  out += "Content-Description: Notification\r\n";
  out += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  out += "This is the mail system at host " + in.reporting_mta + ".\r\n\r\n";
  if (any_failed) {
    out += "I'm sorry to have to inform you that your message could not\r\n";
    out += "be delivered to one or more recipients. It's attached below.\r\n";
  } else if (all_delivered) {
    out += "Your message was successfully delivered to the destination(s)\r\n";
    out += "listed below.\r\n";
  } else {
    out += "Your message could not be delivered yet. The mail system will keep\r\n";
    out += "trying until " + rfc5322_date(in.retry_until) + ".\r\n";
  }
  out += "\r\n";
  for (const auto& r : in.recipients) {
    out += "<" + r.address + ">: ";
    if (!r.remote_mta.empty()) out += "host " + r.remote_mta + " said: ";
    out += ascii_only(r.diagnostic) + "\r\n";
  }
  out += "\r\n";

  // The part programs read (RFC 3464 §2.2, §2.3).
  out += "--" + in.boundary + "\r\n";
  out += "Content-Description: Delivery report\r\n";
  out += "Content-Type: message/delivery-status\r\n\r\n";
  out += "Reporting-MTA: dns; " + in.reporting_mta + "\r\n";
  if (!in.queue_id.empty()) out += "X-Postino-Queue-ID: " + in.queue_id + "\r\n";
  if (!in.envid.empty()) out += "Original-Envelope-Id: " + in.envid + "\r\n";
  out += "Arrival-Date: " + rfc5322_date(in.arrival) + "\r\n";
  for (const auto& r : in.recipients) {
    out += "\r\n";
    out += "Final-Recipient: rfc822; " + r.address + "\r\n";
    if (const auto semicolon = r.orcpt.find(';'); semicolon != std::string::npos) {
      out += "Original-Recipient: " + r.orcpt.substr(0, semicolon) + "; " +
             r.orcpt.substr(semicolon + 1) + "\r\n";
    }
    out += std::string("Action: ") + action_name(r.action) + "\r\n";
    out += "Status: " + dsn_status(r) + "\r\n";
    if (!r.remote_mta.empty()) out += "Remote-MTA: dns; " + r.remote_mta + "\r\n";
    if (!r.diagnostic.empty()) out += "Diagnostic-Code: " + ascii_only(diagnostic_code(r)) + "\r\n";
    out += "Last-Attempt-Date: " + rfc5322_date(in.now) + "\r\n";
    if (r.action == DsnRecipient::Action::delayed)
      out += "Will-Retry-Until: " + rfc5322_date(in.retry_until) + "\r\n";
  }
  out += "\r\n";

  // The original: whole when asked (or not said) and not too large, else its header.
  const bool whole = in.ret != 2 && in.original.size() <= in.max_returned_bytes;
  out += "--" + in.boundary + "\r\n";
  if (whole) {
    out += "Content-Description: Undelivered Message\r\n";
    out += "Content-Type: message/rfc822\r\n\r\n";
    out += in.original;
  } else {
    out += "Content-Description: Undelivered Message Headers\r\n";
    out += "Content-Type: text/rfc822-headers\r\n\r\n";
    out += header_of(in.original);
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  out += "\r\n--" + in.boundary + "--\r\n";
  return out;
}

}  // namespace postino::smtp
