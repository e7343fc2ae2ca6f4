// See store_metrics.hpp.
#include "http/store_metrics.hpp"

namespace postino::http {

std::vector<base::metrics::Computed> store_metrics(store::Store& store) {
  std::vector<base::metrics::Computed> out;
  base::metrics::Computed up{
      "postino_store_up", "1 when the store answered this scrape.", "gauge", {}, {}};
  auto queue = store.list_queue();
  up.samples.push_back({{}, queue ? 1.0 : 0.0});
  out.push_back(std::move(up));
  if (queue) {
    // held: stopped by an administrator; active: being delivered now (a live lease);
    // deferred: tried and waiting for the next attempt; incoming: not tried yet.
    double held = 0, active = 0, deferred = 0, incoming = 0, recipients = 0;
    const auto now = store::SystemClock::now();
    for (const auto& e : *queue) {
      if (e.is_held) {
        ++held;
      } else if (!e.claimed_by.empty() && e.lease_until > now) {
        ++active;
      } else if (e.attempts > 0) {
        ++deferred;
      } else {
        ++incoming;
      }
      for (int status : e.statuses) recipients += status == 0 ? 1 : 0;
    }
    out.push_back({"postino_queue_messages",
                   "Messages in the outbound queue, by state.",
                   "gauge",
                   {"state"},
                   {{{"incoming"}, incoming},
                    {{"active"}, active},
                    {{"deferred"}, deferred},
                    {{"held"}, held}}});
    out.push_back({"postino_queue_pending_recipients",
                   "Recipients of queued messages still to be delivered.",
                   "gauge",
                   {},
                   {{{}, recipients}}});
  }
  if (auto free = store.free_bytes()) {
    out.push_back({"postino_data_dir_free_bytes",
                   "Space left for the data directory's user.",
                   "gauge",
                   {},
                   {{{}, static_cast<double>(*free)}}});
  }
  return out;
}

}  // namespace postino::http
