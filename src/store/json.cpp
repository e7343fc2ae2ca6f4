// See json.hpp.
#include "store/json.hpp"

#include <ctime>

namespace postino::store {

std::string iso_time(SystemClock::time_point t) {
  const auto seconds = SystemClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

const char* recipient_state(int status) {
  return status == 1 ? "delivered" : status == 2 ? "failed" : "pending";
}

nlohmann::json to_json(const QueueEntry& e) {
  nlohmann::json recipients = nlohmann::json::array();
  for (std::size_t i = 0; i < e.recipients.size(); ++i) {
    recipients.push_back({{"address", e.recipients[i].address},
                          {"state", recipient_state(e.statuses[i])},
                          {"last_reply", e.last_replies[i]}});
  }
  return {{"id", e.queue_id},
          {"sender", e.sender},
          {"size", e.size},
          {"arrival", iso_time(e.created)},
          {"next_attempt", iso_time(e.next_attempt)},
          {"attempts", e.attempts},
          {"held", e.is_held},
          {"in_delivery", !e.claimed_by.empty()},
          {"recipients", recipients}};
}

nlohmann::json to_json(const std::string& address, const QuotaUsage& u) {
  return {{"address", address},
          {"quota_bytes", u.quota.max_bytes},
          {"quota_messages", u.quota.max_messages},
          {"used_bytes", u.bytes},
          {"used_messages", u.messages}};
}

nlohmann::json to_json(const Alias& a) {
  return {{"alias", a.address}, {"targets", a.targets}};
}

}  // namespace postino::store
