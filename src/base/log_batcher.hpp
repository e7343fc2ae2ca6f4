// Log lines gathered in memory and written by a thread of their own, a batch at a time.
//
// An event loop never waits for stderr (a slow journald or pipe reader would otherwise
// stall every session on that loop), and a busy server wakes the writing thread once per
// batch, not once per line: spdlog's async logger, used before, woke it for every line, and
// the 4 lines of an SMTP message then cost 4-5 % of the throughput (BENCHMARKS.md). A line
// waits at most `gather` before it is written; when `max_bytes` are waiting, the writer is
// waited for rather than a line dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace postino::base::log {

class LogBatcher {
 public:
  using Write = std::function<void(std::string_view)>;
  struct Options {
    std::chrono::milliseconds gather{5};
    std::size_t max_bytes = 1 << 20;
  };

  LogBatcher(Write write, Options options);
  // Writes what is waiting, then stops the thread.
  ~LogBatcher();
  LogBatcher(const LogBatcher&) = delete;
  LogBatcher& operator=(const LogBatcher&) = delete;

  // Queues whole lines (each ending in '\n').
  void append(std::string_view lines);
  // Has what is waiting written now, without waiting for it.
  void hurry();
  // Returns once everything appended before it is written.
  void flush();

  // Writes `text` to `fd` whole, retrying short writes and EINTR; gives up on other errors
  // (a log that cannot be written is not a reason to stop serving mail).
  static void write_fd(int fd, std::string_view text);

 private:
  void run();

  Write write_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;     // the writer: something to write, or hurry, or stop
  std::condition_variable written_;  // producers: room again, or a flush done
  std::string pending_;
  std::string spare_;           // the last batch's buffer, reused
  std::uint64_t appended_ = 0;  // appends handed in, and those written: for flush()
  std::uint64_t written_count_ = 0;
  bool hurry_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postino::base::log
