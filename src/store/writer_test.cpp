// The group-committing writer (sqlite/connections.hpp): jobs batched into one transaction,
// each in a savepoint of its own so that one failing is undone alone; a job alone and one
// run_unbatched() in a transaction of their own, with no savepoint around them (in one, a
// job of many statements took time growing with their square: SQLite's in-memory
// statement journal is walked from its start as each statement ends).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/connections.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

// A job that holds the writer from its start until released, so that the jobs submitted
// meanwhile queue up behind it.
class Hold {
 public:
  explicit Hold(sqlite::Writer& writer, const std::function<void(sqlite::Database&)>& then = {})
      : thread_([&writer, then, this] {
          writer.run([&](sqlite::Database& db) {
            running_ = true;
            while (held_) std::this_thread::yield();
            if (then) then(db);
          });
        }) {
    while (!running_) std::this_thread::yield();
  }
  ~Hold() { release(); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  void release() {
    held_ = false;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> held_{true}, running_{false};
  std::thread thread_;
};

class GroupCommitWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-writer-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    writer_ = std::make_unique<sqlite::Writer>(
        sqlite::Database::open(dir_ / "w.db", true, std::chrono::seconds(5)), 64);
    writer_->run([](sqlite::Database& db) { db.exec("CREATE TABLE t (x TEXT)"); });
  }
  void TearDown() override {
    writer_.reset();
    fs::remove_all(dir_);
  }

  std::vector<std::string> rows() {
    return writer_->run([](sqlite::Database& db) {
      std::vector<std::string> out;
      auto& q = db.prepare("SELECT x FROM t ORDER BY x");
      while (q.step()) out.push_back(q.text(0));
      q.reset();
      return out;
    });
  }

  // Whether the job asking runs inside a batch's savepoint (SQLite knows it by name).
  // Asked before the job changes anything: rolling back to the savepoint keeps it.
  static bool in_a_savepoint(sqlite::Database& db) {
    return sqlite3_exec(db.handle(), "ROLLBACK TO job", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  // Until `n` jobs wait behind the one running.
  void wait_until_queued(std::size_t n) {
    while (writer_->unfinished() < n + 1) std::this_thread::yield();
  }

  fs::path dir_;
  std::unique_ptr<sqlite::Writer> writer_;
};

TEST_F(GroupCommitWriter, AJobThatFailsInABatchIsUndoneAlone) {
  // The first job holds the writer until three more are queued behind it; they then go
  // in one batch, the middle one failing after its insert.
  Hold first(*writer_,
             [](sqlite::Database& db) { db.prepare("INSERT INTO t VALUES ('first')").run(); });
  std::vector<std::thread> queued;
  std::atomic<int> failed{0};
  for (const std::string x : {"a", "b", "c"}) {
    queued.emplace_back([&, x] {
      try {
        writer_->run([&](sqlite::Database& db) {
          db.prepare("INSERT INTO t VALUES (?)").bind_all(x).run();
          if (x == "b") throw std::runtime_error("b fails");
        });
      } catch (const std::runtime_error&) {
        ++failed;
      }
    });
    wait_until_queued(queued.size());  // queued in this order
  }
  first.release();
  for (auto& t : queued) t.join();
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(rows(), (std::vector<std::string>{"a", "c", "first"}));
}

TEST_F(GroupCommitWriter, AJobAloneOrUnbatchedRunsInATransactionOfItsOwnWithNoSavepoint) {
  bool saw_savepoint = true;
  writer_->run([&](sqlite::Database& db) {
    saw_savepoint = in_a_savepoint(db);
    db.prepare("INSERT INTO t VALUES ('alone')").run();
  });
  EXPECT_FALSE(saw_savepoint) << "a job alone in its batch";
  saw_savepoint = true;
  writer_->run_unbatched([&](sqlite::Database& db) {
    saw_savepoint = in_a_savepoint(db);
    db.prepare("INSERT INTO t VALUES ('unbatched')").run();
  });
  EXPECT_FALSE(saw_savepoint);
  EXPECT_EQ(rows(), (std::vector<std::string>{"alone", "unbatched"}));

  // Failing, each is undone whole.
  EXPECT_THROW(writer_->run([](sqlite::Database& db) {
    db.prepare("INSERT INTO t VALUES ('x')").run();
    throw std::runtime_error("fails");
  }),
               std::runtime_error);
  EXPECT_THROW(writer_->run_unbatched([](sqlite::Database& db) {
    db.prepare("INSERT INTO t VALUES ('y')").run();
    throw std::runtime_error("fails");
  }),
               std::runtime_error);
  EXPECT_EQ(rows(), (std::vector<std::string>{"alone", "unbatched"}));
}

TEST_F(GroupCommitWriter, AnUnbatchedJobQueuedAmongOthersStillRunsAlone) {
  Hold first(*writer_);
  // Queued: 0, 1, the unbatched one, 3, 4: run as [0, 1], [unbatched], [3, 4].
  std::atomic<int> batched_in_savepoint{0}, unbatched_in_savepoint{0};
  std::vector<std::thread> queued;
  for (int i = 0; i < 5; ++i) {
    queued.emplace_back([&, i] {
      if (i == 2) {
        writer_->run_unbatched([&](sqlite::Database& db) {
          if (in_a_savepoint(db)) ++unbatched_in_savepoint;
        });
        return;
      }
      writer_->run([&](sqlite::Database& db) {
        if (in_a_savepoint(db)) ++batched_in_savepoint;
        db.prepare("INSERT INTO t VALUES (?)").bind_all(std::to_string(i)).run();
      });
    });
    wait_until_queued(queued.size());  // queued in this order
  }
  first.release();
  for (auto& t : queued) t.join();
  EXPECT_EQ(unbatched_in_savepoint, 0);
  EXPECT_EQ(batched_in_savepoint, 4);
  EXPECT_EQ(rows(), (std::vector<std::string>{"0", "1", "3", "4"}));
}

// run_over: batched for a few rows, by itself for many.
TEST_F(GroupCommitWriter, AJobOverManyRowsIsNotBatched) {
  Hold first(*writer_);
  // Queued: few, few, many, few: run as [few, few], [many], [few].
  std::atomic<int> few_in_savepoint{0}, many_in_savepoint{0};
  std::vector<std::thread> queued;
  for (int i = 0; i < 4; ++i) {
    queued.emplace_back([&, i] {
      const bool many = i == 2;
      const std::size_t items = many ? sqlite::Writer::max_batched_items + 1 : 3;
      writer_->run_over(items, [&](sqlite::Database& db) {
        if (in_a_savepoint(db)) ++(many ? many_in_savepoint : few_in_savepoint);
      });
    });
    wait_until_queued(queued.size());  // queued in this order
  }
  first.release();
  for (auto& t : queued) t.join();
  EXPECT_EQ(many_in_savepoint, 0);
  EXPECT_EQ(few_in_savepoint, 2);  // the first two, batched; the last alone
}

}  // namespace
}  // namespace postino::store
