// Group-committing writer and reader pool; see connections.hpp.
#include "store/sqlite/connections.hpp"

#include "store/no_wait.hpp"
#include "store/sqlite/no_wait_vfs.hpp"
#include "store/sync_metrics.hpp"

namespace postino::store::sqlite {

Writer::Writer(std::unique_ptr<Database> db, std::size_t max_batch)
    : db_(std::move(db)), max_batch_(max_batch), thread_([this] { loop(); }) {}

Writer::~Writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Writer::submit(std::function<void(Database&)> fn, Kind kind) {
  // A write waits for its commit's fsync: never inside a NoWaitScope.
  if (no_wait()) throw StoreException(make_error(ErrorKind::would_block, "writes wait"));
  Job job;
  job.fn = std::move(fn);
  job.kind = kind;
  auto done = job.done.get_future();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&job);
    unfinished_.fetch_add(1, std::memory_order_relaxed);
  }
  wake_.notify_one();
  done.wait();
  if (job.error) std::rethrow_exception(job.error);
}

void Writer::run_alone(const std::function<void(Database&)>& job) {
  submit(job, Kind::alone);
}

void Writer::loop() {
  for (;;) {
    std::vector<Job*> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      if (queue_.front()->kind != Kind::batched) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      } else {
        while (!queue_.empty() && queue_.front()->kind == Kind::batched &&
               batch.size() < max_batch_) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
    }
    run_batch(batch);
    unfinished_.fetch_sub(batch.size(), std::memory_order_relaxed);
    for (Job* job : batch) job->done.set_value();
  }
}

void Writer::run_batch(std::vector<Job*>& batch) {
  if (batch.size() == 1 && batch.front()->kind == Kind::alone) {
    try {
      batch.front()->fn(*db_);
    } catch (...) {
      batch.front()->error = std::current_exception();
    }
    db_->reset_statements();
    return;
  }
  // A job alone needs no savepoint of its own: its failure rolls its transaction back.
  // (In a savepoint a job of many statements takes time growing with their square; see
  // run_unbatched.)
  if (batch.size() == 1) {
    run_unbatched_job(*batch.front());
    return;
  }
  try {
    db_->exec("BEGIN IMMEDIATE");
  } catch (...) {
    for (Job* job : batch) job->error = std::current_exception();
    return;
  }
  for (Job* job : batch) {
    try {
      db_->exec("SAVEPOINT job");
      job->fn(*db_);
      db_->reset_statements();
      db_->exec("RELEASE job");
    } catch (...) {
      job->error = std::current_exception();
      db_->reset_statements();
      if (!sqlite3_get_autocommit(db_->handle())) {
        try {
          db_->exec("ROLLBACK TO job");
          db_->exec("RELEASE job");
        } catch (...) {
        }
      }
    }
  }
  try {
    // SQLite may have rolled the whole transaction back on its own (SQLITE_FULL, …).
    if (sqlite3_get_autocommit(db_->handle())) {
      throw StoreException(make_error(ErrorKind::temporary, "transaction was rolled back"));
    }
    commit();
  } catch (...) {
    auto error = std::current_exception();
    for (Job* job : batch) {
      if (!job->error) job->error = error;
    }
    if (!sqlite3_get_autocommit(db_->handle())) {
      try {
        db_->exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
}

void Writer::commit() {
  const auto began = std::chrono::steady_clock::now();
  db_->exec("COMMIT");
  static auto& duration = sync_duration("commit");
  duration.observe(std::chrono::steady_clock::now() - began);
  int spilled = 0, highest = 0;
  if (sqlite3_db_status(db_->handle(), SQLITE_DBSTATUS_CACHE_SPILL, &spilled, &highest, 1) ==
          SQLITE_OK &&
      spilled > 0) {
    writer_cache_spills().add(static_cast<std::uint64_t>(spilled));
  }
}

void Writer::run_unbatched_job(Job& job) {
  try {
    db_->exec("BEGIN IMMEDIATE");
    job.fn(*db_);
    db_->reset_statements();
    commit();
  } catch (...) {
    job.error = std::current_exception();
    db_->reset_statements();
    // Nothing to roll back when BEGIN failed or SQLite rolled back on its own (SQLITE_FULL).
    if (!sqlite3_get_autocommit(db_->handle())) {
      try {
        db_->exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
}

std::unique_ptr<Database> ReaderPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      return db;
    }
  }
  if (no_wait()) throw StoreException(make_error(ErrorKind::would_block, "no reader is idle"));
  auto db = Database::open(path_, false, busy_timeout_, 0, no_wait_vfs());
  if (on_open_) {
    on_open_(*db);
    db->reset_statements();
  }
  return db;
}

ReaderPool::NoWaitBusy::NoWaitBusy(Database& db, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  if (!no_wait()) return;
  sqlite3_busy_timeout(db.handle(), 0);
  db_ = &db;
}

ReaderPool::NoWaitBusy::~NoWaitBusy() {
  if (db_) sqlite3_busy_timeout(db_->handle(), static_cast<int>(timeout_.count()));
}

void ReaderPool::give_back(std::unique_ptr<Database> db) {
  db->reset_statements();
  // A job that left a transaction open (a COMMIT that failed, a read refused in a
  // NoWaitScope) would have the connection read that snapshot in every later job.
  if (!sqlite3_get_autocommit(db->handle())) {
    try {
      db->exec("ROLLBACK");
    } catch (const StoreException&) {
      return;  // closed rather than kept
    }
  }
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(db));
}

}  // namespace postino::store::sqlite
