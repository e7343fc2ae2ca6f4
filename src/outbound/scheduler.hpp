// The outbound scheduler: works the durable queue (store::Store's queue) on its own event
// loop. It claims entries that are due, delivers each to its recipients' domains
// (delivery.hpp) within concurrency limits, records per-recipient results, schedules the
// next try (queue::RetryPolicy) and sends the reports the senders asked for: failures,
// delays, and success where the receiving server does not report itself.
//
// Everything it knows lives in the queue: killed at any moment, it starts again from the
// store, and what was in delivery is tried again (a duplicate is possible, a loss is not).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "outbound/report.hpp"
#include "outbound/settings.hpp"
#include "queue/retry.hpp"
#include "store/store.hpp"

namespace postino::outbound {

struct SchedulerSettings {
  DeliverySettings delivery;
  ResolverOptions resolver;
  ReportSettings report;
  queue::RetryPolicy retry;
  std::string node;      // names this server's claims; stable across restarts
  std::string dkim_dir;  // signing keys (dkim/signer.hpp); "" signs nothing
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::seconds lease{3600};  // a claim older than this is another node's to take
  std::size_t max_deliveries = 20;   // messages in delivery at once
  std::size_t max_per_domain = 5;    // connections to one domain at once
};

class Scheduler {
 public:
  Scheduler(store::Store& store, SchedulerSettings settings);
  ~Scheduler();  // stops
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the scheduler's thread. Returns an error text, or "".
  std::string start();
  // Stops: deliveries in flight are abandoned and tried again at the next start.
  void stop();
  // New mail was queued: look now rather than at the next poll. Any thread.
  void wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postino::outbound
