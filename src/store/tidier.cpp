// See tidier.hpp.
#include "store/tidier.hpp"

#include "base/log.hpp"

namespace postino::store {

Tidier::Tidier(Store& store, std::chrono::seconds interval, std::uint64_t copy_bytes_per_second)
    : store_(store), interval_(interval), copy_bytes_per_second_(copy_bytes_per_second) {
  if (interval_.count() > 0) thread_ = std::thread([this] { loop(); });
}

Tidier::~Tidier() {
  stop_.stop();
  if (thread_.joinable()) thread_.join();
}

void Tidier::loop() {
  while (stop_.sleep_until(std::chrono::steady_clock::now() + interval_)) {
    // A batch a compaction copied and its pause take at least its bytes at the rate, so
    // that a mass deletion's compaction is spread out rather than a burst at disk speed.
    auto asked = std::chrono::steady_clock::now();
    auto actions = store_.tidy([&](std::uint64_t copied) {
      if (copy_bytes_per_second_ > 0 && copied > 0) {
        const auto spend = std::chrono::microseconds(copied * 1000000 / copy_bytes_per_second_);
        if (!stop_.sleep_until(asked + spend)) return false;
      }
      asked = std::chrono::steady_clock::now();
      return !stop_.stopping();
    });
    if (!actions) {
      // Tried again at the next interval; nothing is lost meanwhile, only space.
      base::log::warn("", "store.tidy_failed", {{"detail", actions.error().detail}});
      continue;
    }
    for (const auto& line : *actions) base::log::info("", "store.tidied", {{"detail", line}});
  }
}

}  // namespace postino::store
