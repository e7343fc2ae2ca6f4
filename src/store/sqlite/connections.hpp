// The SQLite store's connections: one writer thread that batches concurrent write jobs
// into one transaction (group commit: one fsync covers them all, and no job returns
// before the COMMIT that holds it is durable), and a pool of reader connections that run
// beside it (WAL).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "store/sqlite/database.hpp"

namespace postino::store::sqlite {

class Writer {
 public:
  Writer(std::unique_ptr<Database> db, std::size_t max_batch);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Runs `job(Database&)` inside a shared write transaction and returns its result once
  // the transaction is committed. A job that throws is rolled back alone (a savepoint)
  // and its exception is rethrown here; a failed COMMIT fails every job in the batch.
  template <class F>
  auto run(F&& job) -> std::invoke_result_t<F, Database&> {
    return run_as(Kind::batched, std::forward<F>(job));
  }

  // As run(), in a write transaction of its own, without the SAVEPOINT a batch gives each
  // job: for jobs of many statements changing many pages (an EXPUNGE or COPY of thousands
  // of messages). In a savepoint, SQLite's in-memory statement journal (temp_store=MEMORY)
  // is walked from its start as each statement ends, so such a job took time growing with
  // the square of its size, every save queued behind it waiting (3,000 messages expunged:
  // 4.8 s). The cost: a commit not shared with other jobs.
  template <class F>
  auto run_unbatched(F&& job) -> std::invoke_result_t<F, Database&> {
    return run_as(Kind::unbatched, std::forward<F>(job));
  }

  // run() for a job over `items` rows (messages, UIDs) of a caller's choosing: batched
  // when they are few, run_unbatched() when there may be many.
  template <class F>
  auto run_over(std::size_t items, F&& job) -> std::invoke_result_t<F, Database&> {
    if (items > max_batched_items) return run_unbatched(std::forward<F>(job));
    return run(std::forward<F>(job));
  }
  static constexpr std::size_t max_batched_items = 64;

  // Runs `job` on the writer connection outside any batch (migrations, maintenance).
  void run_alone(const std::function<void(Database&)>& job);

  // From inside a job: whether any other job waits for this batch's commit (one in the
  // same batch, or queued for the next). A long job that can stop early (the text
  // indexer) asks it between steps, so that it never holds saves up for long.
  bool others_waiting() const { return unfinished_.load(std::memory_order_relaxed) > 1; }
  // Jobs submitted and not yet answered, the one running included.
  std::size_t unfinished() const { return unfinished_.load(std::memory_order_relaxed); }

 private:
  enum class Kind {
    batched,    // in the next group commit, in a savepoint of its own
    unbatched,  // in a transaction of its own (run_unbatched)
    alone,      // outside any transaction (run_alone)
  };
  struct Job {
    std::function<void(Database&)> fn;
    std::exception_ptr error;
    Kind kind = Kind::batched;
    std::promise<void> done;
  };
  void submit(std::function<void(Database&)> fn, Kind kind);
  // submit() with the job's result carried back.
  template <class F>
  auto run_as(Kind kind, F&& job) -> std::invoke_result_t<F, Database&> {
    using R = std::invoke_result_t<F, Database&>;
    if constexpr (std::is_void_v<R>) {
      submit([&](Database& db) { job(db); }, kind);
    } else {
      std::optional<R> result;
      submit([&](Database& db) { result.emplace(job(db)); }, kind);
      return std::move(*result);
    }
  }
  void run_unbatched_job(Job& job);
  void commit();  // timed (postino_store_sync_seconds)
  void loop();
  void run_batch(std::vector<Job*>& batch);

  std::unique_ptr<Database> db_;
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job*> queue_;
  std::atomic<std::size_t> unfinished_{0};  // jobs submitted and not yet answered
  bool stopping_ = false;
  std::thread thread_;
};

class ReaderPool {
 public:
  // `on_open` runs on each connection as it is opened (before its first job), to compile
  // the statements of latency-sensitive reads ahead of them.
  ReaderPool(std::filesystem::path path, std::chrono::milliseconds busy_timeout,
             std::function<void(Database&)> on_open = {})
      : path_(std::move(path)), busy_timeout_(busy_timeout), on_open_(std::move(on_open)) {}

  // Runs `job(Database&)` on an idle reader connection (opening one if none is idle).
  // Inside a NoWaitScope (store/no_wait.hpp) a job that would wait (for the disk, a
  // lock, or a connection to be opened) fails with ErrorKind::would_block instead.
  template <class F>
  auto run(F&& job) -> std::invoke_result_t<F, Database&> {
    auto db = take();
    struct Return {
      ReaderPool* pool;
      std::unique_ptr<Database>* db;
      ~Return() { pool->give_back(std::move(*db)); }
    } give_back_on_exit{this, &db};
    const NoWaitBusy busy(*db, busy_timeout_);
    return job(*db);
  }

 private:
  std::unique_ptr<Database> take();
  void give_back(std::unique_ptr<Database> db);
  // Inside a NoWaitScope, the connection's busy timeout is 0 while it lives.
  class NoWaitBusy {
   public:
    NoWaitBusy(Database& db, std::chrono::milliseconds timeout);
    ~NoWaitBusy();
    NoWaitBusy(const NoWaitBusy&) = delete;
    NoWaitBusy& operator=(const NoWaitBusy&) = delete;

   private:
    Database* db_ = nullptr;  // set while the timeout is 0
    std::chrono::milliseconds timeout_;
  };

  std::filesystem::path path_;
  std::chrono::milliseconds busy_timeout_;
  std::function<void(Database&)> on_open_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Database>> idle_;
};

}  // namespace postino::store::sqlite
