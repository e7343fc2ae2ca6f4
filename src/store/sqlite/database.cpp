// SQLite connection wrapper; see database.hpp.
#include "store/sqlite/database.hpp"

#include <chrono>
#include <mutex>

#include "store/no_wait.hpp"

namespace postino::store::sqlite {

void fail(sqlite3* db, int rc, std::string_view what) {
  ErrorKind kind = ErrorKind::temporary;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      kind = ErrorKind::no_space;
      break;
    case SQLITE_CONSTRAINT:
      kind = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                 ? ErrorKind::already_exists
                 : ErrorKind::invalid;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      kind = ErrorKind::corrupt;
      break;
    default:
      break;  // BUSY, LOCKED, IOERR, … are temporary: the client tries again later
  }
  // Inside a NoWaitScope, a read not made (no_wait_vfs.cpp) or a lock not waited for:
  // the caller makes the call again on a worker thread.
  if (would_have_blocked() ||
      (no_wait() && ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED))) {
    kind = ErrorKind::would_block;
  }
  std::string detail(what);
  detail += ": ";
  detail += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw StoreException(make_error(kind, std::move(detail)));
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  if (int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8);
      rc != SQLITE_OK) {
    fail(db_, rc, "bind");
  }
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view value) {
  if (int rc = sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT);
      rc != SQLITE_OK) {
    fail(db_, rc, "bind");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  sqlite3_reset(stmt_);
  fail(db_, rc, sql.substr(0, 60));
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : "";
}

std::string Statement::blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : "";
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No count of the library's memory: Debian's build keeps one by default, behind a mutex
    // every allocation takes, and SQLite allocates for each statement and trigger it runs
    // (COPY of 10,000 messages: 16 % of the server's time locking and unlocking it; STORE
    // 1:* of 10,000 90 -> 76 ms). Nothing here reads the count. Fails harmlessly if the
    // library is initialized already.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

std::unique_ptr<Database> Database::open(const std::filesystem::path& path, bool create,
                                         std::chrono::milliseconds busy_timeout,
                                         std::size_t page_size, const char* vfs) {
  configure_sqlite();
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    throw StoreException(make_error(ErrorKind::temporary, "open " + path.string() + ": " + msg));
  }
  std::unique_ptr<Database> db(new Database(raw));
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  sqlite3_extended_result_codes(raw, 1);
  // Before WAL mode, which writes the header of a new database and fixes its page size.
  if (page_size > 0) db->exec("PRAGMA page_size=" + std::to_string(page_size));
  // RELIABILITY §3: WAL with synchronous=FULL; NORMAL may lose commits on power loss.
  db->exec("PRAGMA journal_mode=WAL");
  db->exec("PRAGMA synchronous=FULL");
  db->exec("PRAGMA foreign_keys=ON");
  // Temporary data in memory. Each job of a group commit runs in a SAVEPOINT, whose
  // statement journal SQLite spills to a new file in /var/tmp beyond 64 KiB (four 16 KiB
  // pages): a file created, written and deleted for nearly every message saved, and the
  // largest kernel cost of a save after its own fsyncs (BENCHMARKS.md, SMTP). What it
  // holds is bounded by one job's pages or one query's temporary b-tree.
  db->exec("PRAGMA temp_store=MEMORY");
  return db;
}

Database::~Database() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  sqlite3_close(db_);
}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "";
    sqlite3_free(err);
    fail(db_, rc, text.substr(0, 60) + " (" + msg + ")");
  }
}

void Database::reset_statements() {
  for (auto* entry : used_) {
    sqlite3_reset(entry->stmt);
    entry->is_used = false;
  }
  used_.clear();
}

namespace {
thread_local std::size_t compiled_here = 0;
}  // namespace

std::size_t Database::compiled_on_this_thread() {
  return compiled_here;
}

Statement& Database::prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    ++compiled_here;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, "prepare " + std::string(sql.substr(0, 60)));
    it = cache_.emplace(std::string(sql), Cached{stmt, std::make_unique<Statement>(db_, stmt)})
             .first;
  }
  auto& entry = it->second;
  if (!entry.is_used) {
    entry.is_used = true;
    used_.push_back(&entry);
  }
  entry.statement->reset();
  return *entry.statement;
}

}  // namespace postino::store::sqlite
