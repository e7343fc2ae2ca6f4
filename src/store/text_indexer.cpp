// See text_indexer.hpp.
#include "store/text_indexer.hpp"

#include "base/log.hpp"

namespace postino::store {

TextIndexer::TextIndexer(Store& store, std::size_t batch_bytes, std::chrono::milliseconds idle_wait)
    : store_(store),
      batch_bytes_(batch_bytes),
      idle_wait_(idle_wait),
      thread_([this] { loop(); }) {}

TextIndexer::~TextIndexer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void TextIndexer::loop() {
  bool reported = false;  // one warning per run of failures, not one a second
  for (;;) {
    auto done = store_.index_text(batch_bytes_);
    if (!done && !reported) {
      base::log::warn("", "text_index.failed", {{"detail", done.error().detail}});
    }
    reported = !done;
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    if (done && done->more_waiting && !done->busy) continue;  // a backlog: on at once
    const auto wait = done && done->busy ? std::chrono::milliseconds(100) : idle_wait_;
    wake_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace postino::store
