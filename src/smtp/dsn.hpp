// Delivery status notifications (RFC 3464) as Postino sends them to the envelope sender:
// a multipart/report (RFC 6522) with a human-readable part, the machine-readable
// message/delivery-status, and the original message or its header (RET, RFC 3461 §4.3).
// Pure: the queue decides when and to whom; this writes the message.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postino::smtp {

struct DsnRecipient {
  // relayed: handed to a server that does not offer DSN (RFC 3461 §4.2), no report follows.
  enum class Action { failed, delayed, delivered, relayed };
  std::string address;  // the final recipient
  std::string orcpt;    // "rfc822;addr" as the client gave it, "" when none
  Action action = Action::failed;
  std::string diagnostic;  // the remote reply ("550 5.1.1 …") or a local reason
  std::string remote_mta;  // host name of the server that answered, "" when none did
};

struct DsnInput {
  std::string reporting_mta;  // our host name
  std::string sender;         // the envelope sender, to whom the report goes
  std::string envid;          // RFC 3461 ENVID, "" when none
  std::string queue_id;
  int ret = 0;  // 0 unspecified, 1 FULL, 2 HDRS
  std::chrono::system_clock::time_point arrival, now, retry_until;
  std::vector<DsnRecipient> recipients;
  std::string_view original;                // the message as queued
  std::size_t max_returned_bytes = 50'000;  // larger originals come back as header only
  std::string boundary;                     // unique per report
  std::string message_id;                   // "<…@host>"
};

// The RFC 3463 status of a recipient: the enhanced code of its diagnostic when it has
// one of the right class, otherwise X.0.0 from the reply code (5.0.0 for local reasons
// of a failure, 4.0.0 of a delay, 2.0.0 for a delivery).
std::string dsn_status(const DsnRecipient& r);

// The whole report, ready to be queued from the null sender (RFC 3461 §6.1: a report is
// never sent for a report) to `sender`. Lines end in CRLF.
std::string compose_dsn(const DsnInput& input);

}  // namespace postino::smtp
