// See log_batcher.hpp.
#include "base/log_batcher.hpp"

#include <unistd.h>

#include <cerrno>

namespace postino::base::log {

LogBatcher::LogBatcher(Write write, Options options)
    : write_(std::move(write)), options_(options), thread_([this] { run(); }) {}

LogBatcher::~LogBatcher() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LogBatcher::append(std::string_view lines) {
  std::unique_lock lock(mutex_);
  written_.wait(lock, [&] { return pending_.size() < options_.max_bytes || stopping_; });
  const bool was_empty = pending_.empty();
  pending_.append(lines);
  ++appended_;
  // One wake-up per batch: the writer, once woken, gathers what follows for a while.
  if (was_empty) wake_.notify_one();
}

void LogBatcher::hurry() {
  {
    const std::lock_guard lock(mutex_);
    hurry_ = true;
  }
  wake_.notify_one();
}

void LogBatcher::flush() {
  std::unique_lock lock(mutex_);
  const auto target = appended_;
  hurry_ = true;
  wake_.notify_one();
  written_.wait(lock, [&] { return written_count_ >= target; });
}

void LogBatcher::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return !pending_.empty() || stopping_ || hurry_; });
    if (!stopping_ && !hurry_) {
      wake_.wait_for(lock, options_.gather, [&] {
        return stopping_ || hurry_ || pending_.size() >= options_.max_bytes / 2;
      });
    }
    hurry_ = false;
    if (pending_.empty()) {
      written_.notify_all();  // a flush with nothing left to write
      if (stopping_) return;
      continue;
    }
    std::string batch;
    batch.swap(spare_);
    batch.swap(pending_);
    const auto count = appended_;
    written_.notify_all();  // room again
    lock.unlock();
    write_(batch);
    batch.clear();
    lock.lock();
    spare_.swap(batch);
    written_count_ = count;
    written_.notify_all();
  }
}

void LogBatcher::write_fd(int fd, std::string_view text) {
  while (!text.empty()) {
    const auto n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace postino::base::log
