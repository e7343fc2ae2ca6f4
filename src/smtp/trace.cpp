// Trace headers; see trace.hpp.
#include "smtp/trace.hpp"
#include "base/ascii.hpp"

#include <cctype>
#include <ctime>

namespace postino::smtp {
namespace {

// Calls f(name, whole_field_with_line_break) for each field of the top-level header and
// returns where the header ends (after its blank line, or the end).
template <class F>
std::size_t for_each_field(std::string_view msg, F&& f) {
  std::size_t pos = 0;
  while (pos < msg.size()) {
    if (msg[pos] == '\n' || (msg[pos] == '\r' && pos + 1 < msg.size() && msg[pos + 1] == '\n')) {
      return pos;  // the blank line
    }
    std::size_t end = pos;
    for (;;) {  // the field runs over continuation lines
      const auto lf = msg.find('\n', end);
      end = lf == std::string_view::npos ? msg.size() : lf + 1;
      if (end >= msg.size() || (msg[end] != ' ' && msg[end] != '\t')) break;
    }
    const auto field = msg.substr(pos, end - pos);
    const auto colon = field.find(':');
    f(colon == std::string_view::npos ? std::string_view{} : field.substr(0, colon), field);
    pos = end;
  }
  return pos;
}

}  // namespace

std::string rfc5322_date(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string received_header(const TraceInfo& t) {
  // RFC 3848: ESMTP, ESMTPS (TLS), ESMTPA (AUTH), ESMTPSA (both); SMTP after HELO.
  std::string with = t.is_esmtp ? "ESMTP" : "SMTP";
  if (t.is_esmtp && t.is_tls) with += "S";
  if (t.is_esmtp && t.is_authenticated) with += "A";
  std::string h = "Received: from " + t.helo + " ([" + t.client_address + "])\r\n\tby " +
                  t.hostname + " (Postino) with " + with;
  if (t.is_tls) h += " (" + t.tls_version + " with cipher " + t.tls_cipher + ")";
  h += "\r\n\tid " + t.queue_id;
  if (!t.recipient.empty()) h += "\r\n\tfor <" + t.recipient + ">";
  h += "; " + rfc5322_date(t.when) + "\r\n";
  return h;
}

std::size_t count_received(std::string_view message) {
  std::size_t n = 0;
  for_each_field(message, [&](std::string_view name, std::string_view) {
    n += base::iequals(name, "Received");
  });
  return n;
}

void append_without_fields(std::string& out, std::string_view message,
                           std::initializer_list<std::string_view> names) {
  const auto header_end =
      for_each_field(message, [&](std::string_view name, std::string_view field) {
        for (auto n : names) {
          if (base::iequals(name, n)) return;
        }
        out.append(field);
      });
  out.append(message.substr(header_end));
}

std::string remove_header_fields(std::string_view message,
                                 std::initializer_list<std::string_view> names) {
  std::string out;
  out.reserve(message.size());
  append_without_fields(out, message, names);
  return out;
}

}  // namespace postino::smtp
