// The background job that fills the full-text index (Store::index_text): a thread that
// indexes new messages once a second, batch after batch while a backlog lasts (so that
// a steady flow of mail is indexed in few transactions, each with its own fsync), and
// keeps away while mail is being saved.
// Saves never wait for it; a search reads the messages it has not reached yet.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "store/store.hpp"

namespace postino::store {

class TextIndexer {
 public:
  TextIndexer(Store& store, std::size_t batch_bytes,
              std::chrono::milliseconds idle_wait = std::chrono::seconds(1));
  ~TextIndexer();  // stops after the batch in hand
  TextIndexer(const TextIndexer&) = delete;
  TextIndexer& operator=(const TextIndexer&) = delete;

 private:
  void loop();

  Store& store_;
  std::size_t batch_bytes_;
  std::chrono::milliseconds idle_wait_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postino::store
