// See store_metrics.hpp.
#include "http/store_metrics.hpp"

#include <map>

namespace postino::http {

std::vector<base::metrics::Computed> store_metrics(store::Store& store) {
  std::vector<base::metrics::Computed> out;
  base::metrics::Computed up{
      "postino_store_up", "1 when the store answered this scrape.", "gauge", {}, {}};
  auto queue = store.list_queue();
  up.samples.push_back({{}, queue ? 1.0 : 0.0});
  out.push_back(std::move(up));
  if (queue) {
    std::map<store::QueueState, double> states = {{store::QueueState::incoming, 0},
                                                  {store::QueueState::active, 0},
                                                  {store::QueueState::deferred, 0},
                                                  {store::QueueState::held, 0}};
    double recipients = 0;
    const auto now = store::SystemClock::now();
    for (const auto& e : *queue) {
      ++states[store::queue_state(e, now)];
      for (int status : e.statuses) recipients += status == 0 ? 1 : 0;
    }
    base::metrics::Computed by_state{"postino_queue_messages",
                                     "Messages in the outbound queue, by state.",
                                     "gauge",
                                     {"state"},
                                     {}};
    for (const auto& [state, count] : states) {
      by_state.samples.push_back({{store::to_string(state)}, count});
    }
    out.push_back(std::move(by_state));
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
