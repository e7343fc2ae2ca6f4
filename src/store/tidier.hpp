// The store's tidying while the server runs (Store::tidy): every interval, the bodies that
// nothing has referred to for the grace period are removed and body-log segments emptied
// or mostly dead are given back, as the store's opening does. Without it a server that is
// never restarted keeps every deleted message's bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "store/stop_signal.hpp"
#include "store/store.hpp"

namespace postino::store {

class Tidier {
 public:
  // `interval`: between the end of one tidying and the start of the next, the first one
  // interval after the start (the opening has just tidied); 0: no thread.
  // `copy_bytes_per_second`: what a compaction may copy a second, so that the mail still
  // arriving and being read shares the disk with it (0: as fast as the disk goes).
  Tidier(Store& store, std::chrono::seconds interval, std::uint64_t copy_bytes_per_second);
  ~Tidier();  // stops after the batch of bodies or the segment in hand, or in a pause
  Tidier(const Tidier&) = delete;
  Tidier& operator=(const Tidier&) = delete;

 private:
  void loop();

  Store& store_;
  std::chrono::seconds interval_;
  std::uint64_t copy_bytes_per_second_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace postino::store
