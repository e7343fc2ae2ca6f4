// The store's own temporary data stays in memory: saving mail creates no file outside the
// data directory (SQLite's statement journals, which it would otherwise spill to its
// temporary directory, database.cpp).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/store_contract.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

// Points SQLite's temporary directory at `dir` for the object's lifetime.
class SqliteTempDirectory {
 public:
  explicit SqliteTempDirectory(const fs::path& dir) : previous_(sqlite3_temp_directory) {
    sqlite3_temp_directory = sqlite3_mprintf("%s", dir.c_str());
  }
  ~SqliteTempDirectory() {
    sqlite3_free(sqlite3_temp_directory);
    sqlite3_temp_directory = previous_;
  }
  SqliteTempDirectory(const SqliteTempDirectory&) = delete;
  SqliteTempDirectory& operator=(const SqliteTempDirectory&) = delete;

 private:
  char* previous_;
};

// Files created in a directory while the object lives (SQLite unlinks its temporary
// files as soon as it has opened them, so the directory itself stays empty).
class CreationWatch {
 public:
  explicit CreationWatch(const fs::path& dir) : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    EXPECT_GE(fd_, 0);
    EXPECT_GE(inotify_add_watch(fd_, dir.c_str(), IN_CREATE), 0);
  }
  ~CreationWatch() { ::close(fd_); }
  CreationWatch(const CreationWatch&) = delete;
  CreationWatch& operator=(const CreationWatch&) = delete;

  int created() const {
    int n = 0;
    alignas(inotify_event) char buf[4096];
    for (;;) {
      const ssize_t got = ::read(fd_, buf, sizeof buf);
      if (got <= 0) return n;
      for (ssize_t at = 0; at < got;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buf + at);
        if (event->mask & IN_CREATE) ++n;
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
  }

 private:
  int fd_;
};

TEST_P(StoreContract, SavingMailCreatesNoTemporaryFile) {
  const auto temp = dir_ / "sqlite-temp";
  fs::create_directories(temp);
  SqliteTempDirectory redirect(temp);
  CreationWatch watch(temp);
  // Each save runs in a SAVEPOINT of its own inside the writer's transaction; one that
  // changes more pages than the statement journal keeps in memory by default (64 KiB)
  // spilled it to a new file in the temporary directory.
  for (int i = 0; i < 30; ++i) {
    std::string message = "Subject: message " + std::to_string(i) + "\r\n\r\n";
    message += std::string(static_cast<std::size_t>(2000 + 3000 * i), 'a' + i % 26);
    message += "\r\n";
    auto saved = store_->append(demo_, "INBOX", message, {});
    ASSERT_TRUE(saved) << saved.error().detail;
    auto flagged = store_->store_flags(demo_, box("INBOX").id, {saved->uid}, Store::FlagChange::add,
                                       {flag_seen, {}});
    ASSERT_TRUE(flagged) << flagged.error().detail;
  }
  EXPECT_EQ(box("INBOX").messages, 30);
  EXPECT_EQ(watch.created(), 0);
}

}  // namespace
}  // namespace postino::store
