// See scrubber.hpp.
#include "store/scrubber.hpp"

#include "base/log.hpp"
#include "base/metrics.hpp"

namespace postino::store {
namespace {

using Clock = std::chrono::steady_clock;

// Batches of about a quarter of a second's reading, so that a stop waits little.
constexpr std::uint64_t batches_per_second = 4;

}  // namespace

Scrubber::Scrubber(Store& store, std::uint64_t bytes_per_second, std::chrono::seconds interval,
                   std::chrono::seconds start_delay)
    : store_(store),
      bytes_per_second_(bytes_per_second),
      interval_(interval),
      start_delay_(start_delay) {
  if (bytes_per_second_ > 0) thread_ = std::thread([this] { loop(); });
}

Scrubber::~Scrubber() {
  stop_.stop();
  if (thread_.joinable()) thread_.join();
}

void Scrubber::loop() {
  // Not while a restarted server's clients come back and read from a cold disk.
  if (!stop_.sleep_until(Clock::now() + start_delay_)) return;
  for (;;) {
    const auto began = Clock::now();
    if (!pass() || !stop_.sleep_until(began + interval_)) return;
  }
}

bool Scrubber::pass() {
  static auto& checked_total = base::metrics::counter(
      "postino_store_scrubbed_bytes_total", "Bytes of stored bodies checked against their hash.");
  static auto& quarantined_total = base::metrics::counter(
      "postino_store_quarantined_total",
      "Stored bodies found missing or damaged by the scrub and quarantined.");
  static auto& checked = checked_total.with({});
  static auto& quarantined = quarantined_total.with({});

  const auto began = Clock::now();
  std::string after;
  std::size_t bodies = 0, damaged = 0;
  std::uint64_t bytes = 0;
  const std::uint64_t batch_bytes =
      std::max<std::uint64_t>(1, bytes_per_second_ / batches_per_second);
  for (;;) {
    const auto batch_began = Clock::now();
    auto progress = store_.scrub(after, batch_bytes);
    if (!progress) {
      // The store is busy or failing (a lock held elsewhere, say): the same batch again
      // in a minute, not at the next pass.
      base::log::warn("", "store.scrub_failed", {{"detail", progress.error().detail}});
      if (!stop_.sleep_until(Clock::now() + std::chrono::minutes(1))) return false;
      continue;
    }
    for (const auto& line : progress->quarantined) {
      base::log::error("", "store.quarantined", {{"detail", line}});
    }
    for (const auto& line : progress->unreadable) {
      base::log::warn("", "store.unreadable", {{"detail", line}});
    }
    bodies += progress->checked;
    bytes += progress->bytes;
    damaged += progress->quarantined.size();
    checked.add(progress->bytes);
    quarantined.add(progress->quarantined.size());
    after = progress->last;
    if (progress->done) break;
    // Paced: this batch's bytes at the configured rate.
    const auto spend = std::chrono::microseconds(progress->bytes * 1000000 / bytes_per_second_);
    if (!stop_.sleep_until(batch_began + spend)) return false;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  base::log::info("", "store.scrub_finished",
                  {{"bodies", std::to_string(bodies)},
                   {"bytes", std::to_string(bytes)},
                   {"quarantined", std::to_string(damaged)},
                   {"ms", std::to_string(ms)}});
  return true;
}

}  // namespace postino::store
