// A thin RAII layer over one SQLite connection: prepared statements with bound
// parameters (every query is parameterized: RELIABILITY I03, A05), errors mapped to
// store::ErrorKind. Inside the SQLite store, failures travel as StoreException and are
// turned back into Result values at the Store interface.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/error.hpp"

namespace postino::store::sqlite {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what);

// Configures the SQLite library for this process, once, before anything initializes it
// (Database::open and no_wait_vfs() call it first).
void configure_sqlite();

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameters 1..N in order; returns *this for chaining.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);  // as TEXT
  Statement& bind_blob(int index, std::string_view value);
  Statement& bind_null(int index);
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind_one(++i, args), ...);
    return *this;
  }

  // Steps once: true when a row is available.
  bool step();
  // Steps to completion (for statements without rows).
  void run();
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  std::string blob(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  // Clears bindings and resets so the statement can be reused.
  void reset();

 private:
  template <class T>
  void bind_one(int i, const T& v) {
    if constexpr (std::is_integral_v<T>) {
      bind(i, static_cast<std::int64_t>(v));
    } else {
      bind(i, std::string_view(v));
    }
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating if asked) the database with WAL, synchronous=FULL, foreign keys on and
  // a busy timeout, so that a lock held by another process gives a temporary error.
  // page_size (bytes, 0: SQLite's) applies to a database created here; one that exists
  // keeps its own. `vfs` names the VFS (nullptr: SQLite's default).
  static std::unique_ptr<Database> open(const std::filesystem::path& path, bool create,
                                        std::chrono::milliseconds busy_timeout,
                                        std::size_t page_size = 0, const char* vfs = nullptr);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  // A cached prepared statement, reset and ready to bind.
  Statement& prepare(std::string_view sql);
  // Resets every statement prepared since the last call, ending any read transaction a
  // half-stepped query still holds open (a pooled reader would otherwise keep reading an
  // old snapshot).
  void reset_statements();
  // How many statements prepare() has compiled (a text its connection had not cached) on
  // the calling thread, on any connection.
  static std::size_t compiled_on_this_thread();
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    std::unique_ptr<Statement> statement;
    bool is_used = false;  // prepared since the last reset_statements()
  };
  std::unordered_map<std::string, Cached> cache_;
  // The statements prepared since the last reset_statements(): a connection keeps a
  // hundred or so, a job uses a few, and resetting them all cost a pooled reader's every
  // return tens of microseconds on a cold CPU.
  std::vector<Cached*> used_;
};

}  // namespace postino::store::sqlite
