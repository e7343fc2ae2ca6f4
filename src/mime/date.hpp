// The calendar date of an RFC 5322 §3.3 date-time ("Tue, 24 Nov 2026 21:52:00 +0000"),
// lenient with the obsolete forms (two-digit years, comments, missing weekday).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace postino::mime {

// Days since 1970-01-01 of the date as written, time and zone disregarded (what IMAP's
// SENTBEFORE/SENTON/SENTSINCE compare, RFC 3501 §6.4.4); nullopt when there is none.
std::optional<std::int64_t> date_days(std::string_view value);

// Seconds since 1970-01-01T00:00:00Z of the date-time, the zone applied (RFC 5322 §3.3,
// the obsolete zone names of §4.3; an unknown zone is taken as UTC, a missing time as
// midnight); nullopt when there is no date. What SORT's DATE compares (RFC 5256 §2.2).
std::optional<std::int64_t> date_time(std::string_view value);

}  // namespace postino::mime
