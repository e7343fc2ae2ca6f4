// The store's tidying while the server runs (Store::tidy): every interval, the bodies that
// nothing has referred to for the grace period are removed and body-log segments emptied
// or mostly dead are given back, as the store's opening does. Without it a server that is
// never restarted keeps every deleted message's bytes.
#pragma once

#include <chrono>
#include <thread>

#include "store/stop_signal.hpp"
#include "store/store.hpp"

namespace postino::store {

class Tidier {
 public:
  // `interval`: between the end of one tidying and the start of the next, the first one
  // interval after the start (the opening has just tidied); 0: no thread.
  Tidier(Store& store, std::chrono::seconds interval);
  ~Tidier();  // stops after the batch of bodies or the segment in hand
  Tidier(const Tidier&) = delete;
  Tidier& operator=(const Tidier&) = delete;

 private:
  void loop();

  Store& store_;
  std::chrono::seconds interval_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace postino::store
