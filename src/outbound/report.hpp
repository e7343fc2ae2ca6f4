// Delivery reports (RFC 3464) to the sender of a queued message: composed by
// smtp::compose_dsn, then delivered like any mail from the null sender: into the INBOX
// when the sender is one of our accounts, queued for relay otherwise (with NOTIFY=NEVER:
// a report never causes another, RFC 3461 §6.1). Blocking (store calls).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "smtp/dsn.hpp"
#include "store/store.hpp"

namespace postino::outbound {

struct ReportSettings {
  std::string hostname;                     // Reporting-MTA, From: MAILER-DAEMON@…
  std::size_t max_returned_bytes = 50'000;  // larger originals come back as header only
};

// What compose_dsn needs of the original: all of it when it may be returned, else enough
// to hold its header.
std::size_t report_read_limit(const ReportSettings& settings);

// Sends the report on `entry` for `recipients` (none: nothing to send; a null sender:
// nothing either). `original` is the queued message, or its beginning.
store::Result<void> send_report(store::Store& store, const ReportSettings& settings,
                                const store::QueueEntry& entry,
                                std::vector<smtp::DsnRecipient> recipients,
                                std::string_view original,
                                std::chrono::system_clock::time_point retry_until);

}  // namespace postino::outbound
