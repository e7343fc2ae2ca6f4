// See tidier.hpp.
#include "store/tidier.hpp"

#include "base/log.hpp"

namespace postino::store {

Tidier::Tidier(Store& store, std::chrono::seconds interval) : store_(store), interval_(interval) {
  if (interval_.count() > 0) thread_ = std::thread([this] { loop(); });
}

Tidier::~Tidier() {
  stop_.stop();
  if (thread_.joinable()) thread_.join();
}

void Tidier::loop() {
  while (stop_.sleep_until(std::chrono::steady_clock::now() + interval_)) {
    auto actions = store_.tidy([this] { return !stop_.stopping(); });
    if (!actions) {
      // Tried again at the next interval; nothing is lost meanwhile, only space.
      base::log::warn("", "store.tidy_failed", {{"detail", actions.error().detail}});
      continue;
    }
    for (const auto& line : *actions) base::log::info("", "store.tidied", {{"detail", line}});
  }
}

}  // namespace postino::store
