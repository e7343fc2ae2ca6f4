// The background scrub (Store::scrub, RELIABILITY C05): a thread that reads every stored
// body against its hash at a bounded rate, a first pass at start-up and one more every
// interval, and logs what it quarantines. Bit rot, a file zeroed or deleted behind the
// server's back are found without anyone running fsck, and clients stop being served them.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "store/stop_signal.hpp"
#include "store/store.hpp"

namespace postino::store {

class Scrubber {
 public:
  // `bytes_per_second`: how fast bodies are read (0: no scrub, no thread); `interval`:
  // from the start of a pass to the start of the next; `start_delay`: before the first.
  Scrubber(Store& store, std::uint64_t bytes_per_second, std::chrono::seconds interval,
           std::chrono::seconds start_delay);
  ~Scrubber();  // stops after the batch in hand
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

 private:
  void loop();
  // One pass over every body; false when stopping.
  bool pass();

  Store& store_;
  std::uint64_t bytes_per_second_;
  std::chrono::seconds interval_;
  std::chrono::seconds start_delay_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace postino::store
