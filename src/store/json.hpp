// The store's records as JSON, the same for `postino … --json` and the HTTP admin API.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "store/types.hpp"

namespace postino::store {

// "2026-12-01T20:00:00Z"
std::string iso_time(SystemClock::time_point t);
// "pending", "delivered" or "failed" (QueueEntry::statuses).
const char* recipient_state(int status);

nlohmann::json to_json(const QueueEntry& e);
// {"address", "quota_bytes", "quota_messages", "used_bytes", "used_messages"}
nlohmann::json to_json(const std::string& address, const QuotaUsage& usage);
// {"alias", "targets"}
nlohmann::json to_json(const Alias& alias);

}  // namespace postino::store
