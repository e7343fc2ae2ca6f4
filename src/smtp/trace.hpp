// Trace information added to a message as it is accepted (RFC 5321 §4.4): the Received
// header (with the RFC 3848 protocol keyword and TLS details), Return-Path at final
// delivery, the hop count for the loop guard, and removal of header fields (Bcc on
// submission). Pure functions.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>

namespace postino::smtp {

struct TraceInfo {
  std::string helo;            // as the client gave it (already validated)
  std::string client_address;  // IP literal
  std::string hostname;        // ours
  bool is_esmtp = true;
  bool is_tls = false;
  bool is_authenticated = false;
  std::string tls_version, tls_cipher;
  std::string queue_id;
  std::string recipient;  // named in "for <…>" when there is exactly one
  std::chrono::system_clock::time_point when;
};

// "Received: from HELO ([IP]) by HOST (Postino) with ESMTPSA (TLSv1.3 CIPHER) id ID for
// <r>; DATE\r\n", folded to stay under 78 columns where it can.
std::string received_header(const TraceInfo& t);

// RFC 5322 §3.3 date-time in UTC: "Tue, 24 Nov 2026 20:30:00 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point when);

// The number of Received fields in the top-level header (RFC 5321 §6.3 loop detection).
std::size_t count_received(std::string_view message);

// The message with every top-level header field named in `names` removed.
std::string remove_header_fields(std::string_view message,
                                 std::initializer_list<std::string_view> names);
// The same, appended to `out` (one copy of the message instead of two).
void append_without_fields(std::string& out, std::string_view message,
                           std::initializer_list<std::string_view> names);

}  // namespace postino::smtp
