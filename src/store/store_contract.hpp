// The store contract's fixture: every Store implementation must pass the StoreContract
// tests (STYLE.md example 9), which are spread over several files by subject and run
// against each backend listed where the suite is instantiated (store_contract_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>

#include "store/body_log.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::store::test_support {

namespace fs = std::filesystem;

// A body's id: the lower-case hex SHA-256 of its bytes (blob_store.hpp).
inline std::string blob_id_of(std::string_view content) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(content.data(), content.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const fs::path& dir, std::chrono::seconds blob_grace)> open;
  friend void PrintTo(const Backend& b, std::ostream* out) { *out << b.name; }
};

inline SqliteOptions sqlite_options(const fs::path& dir, std::chrono::seconds grace,
                                    std::size_t inline_body_bytes, std::size_t log_body_bytes = 0,
                                    std::uint64_t log_segment_bytes = 64 << 20,
                                    unsigned log_compact_percent = 50) {
  SqliteOptions o;
  o.data_dir = dir;
  o.blob_grace = grace;
  o.text_index_quiet = std::chrono::milliseconds(0);
  o.inline_body_bytes = inline_body_bytes;
  o.log_body_bytes = log_body_bytes;
  o.log_segment_bytes = log_segment_bytes;
  o.log_compact_percent = log_compact_percent;
  return o;
}

inline std::unique_ptr<Store> open_sqlite_with(const SqliteOptions& options) {
  auto s = open_sqlite_store(options);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

inline std::unique_ptr<Store> open_sqlite_with(const fs::path& dir, std::chrono::seconds grace,
                                               std::size_t inline_body_bytes,
                                               std::size_t log_body_bytes = 0,
                                               std::uint64_t log_segment_bytes = 64 << 20,
                                               unsigned log_compact_percent = 50) {
  return open_sqlite_with(sqlite_options(dir, grace, inline_body_bytes, log_body_bytes,
                                         log_segment_bytes, log_compact_percent));
}

// Every body a file under blobs/.
inline std::unique_ptr<Store> open_sqlite(const fs::path& dir, std::chrono::seconds grace) {
  return open_sqlite_with(dir, grace, 0);
}

// Bodies of up to 256 KiB in the database (the server's default), larger ones files.
inline std::unique_ptr<Store> open_sqlite_inline(const fs::path& dir, std::chrono::seconds grace) {
  return open_sqlite_with(dir, grace, 256 * 1024);
}

// Every body in the body log (the server keeps the smallest in the database; here the
// tests' small bodies go to the log too).
inline std::unique_ptr<Store> open_sqlite_log(const fs::path& dir, std::chrono::seconds grace) {
  return open_sqlite_with(dir, grace, 0, 16 << 20);
}

// Files under `dir` and its subdirectories, leaving out temporary ones (in a tmp/).
// Undoes migration 12 on a store made by today's code (for tests that take a store back
// to an older schema and open it again): the accounts' usage columns, filled, and the
// triggers on messages as schema 11 had them. Runs inside the caller's transaction.
inline constexpr const char* back_before_migration_12 = R"sql(
DROP TRIGGER messages_after_insert;
DROP TRIGGER messages_after_delete;
DROP TRIGGER messages_count_flags;
DROP TRIGGER messages_count_update;
ALTER TABLE accounts ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN used_messages INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET
  used_bytes = (SELECT coalesce(sum(m.size), 0) FROM messages m
                JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = accounts.id),
  used_messages = (SELECT count(*) FROM messages m
                   JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = accounts.id);
CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
  UPDATE blobs SET refs = refs + 1, unreferenced_since = NULL WHERE id = NEW.blob_id;
  UPDATE accounts SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id);
END;
CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
  UPDATE blobs SET refs = refs - 1,
         unreferenced_since = CASE WHEN refs = 1 THEN unixepoch() ELSE unreferenced_since END
   WHERE id = OLD.blob_id;
  UPDATE accounts SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
END;
CREATE TRIGGER messages_after_move AFTER UPDATE OF mailbox_id ON messages BEGIN
  UPDATE accounts SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
  UPDATE accounts SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1
   WHERE id = (SELECT account_id FROM mailboxes WHERE id = NEW.mailbox_id);
END;
CREATE TRIGGER messages_count_update AFTER UPDATE OF mailbox_id, flags, size ON messages
  WHEN OLD.mailbox_id != NEW.mailbox_id OR (OLD.flags & 9) != (NEW.flags & 9)
    OR OLD.size != NEW.size BEGIN
  UPDATE mailboxes SET message_count = message_count - 1,
         unseen_count = unseen_count - ((OLD.flags & 1) = 0), byte_count = byte_count - OLD.size,
         deleted_count = deleted_count - ((OLD.flags & 8) != 0)
   WHERE id = OLD.mailbox_id;
  UPDATE mailboxes SET message_count = message_count + 1,
         unseen_count = unseen_count + ((NEW.flags & 1) = 0), byte_count = byte_count + NEW.size,
         deleted_count = deleted_count + ((NEW.flags & 8) != 0)
   WHERE id = NEW.mailbox_id;
END;
)sql";

inline std::size_t files_under(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") ++n;
  }
  return n;
}

// Runs one statement on the store's database behind its back: ?1 bound as text, ?2 as a
// blob (the tests' way to lose or damage a body kept there).
inline void sql_behind_the_back(const fs::path& dir, const std::string& statement,
                                const std::string& text, const std::string& blob = {}) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "store.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, statement.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_bind_text(stmt, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (sqlite3_bind_parameter_count(stmt) > 1) {
    sqlite3_bind_blob(stmt, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  }
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-store-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir_);
    reopen();
    ASSERT_TRUE(store_->create_domain("example.test"));
    auto id = store_->create_account("demo@example.test", "$y$hash", "");
    ASSERT_TRUE(id) << id.error().detail;
    demo_ = *id;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void reopen(std::chrono::seconds grace = std::chrono::seconds(3600)) {
    store_.reset();
    store_ = GetParam().open(dir_, grace);
  }
  MailboxInfo box(const std::string& name, AccountId who = AccountId()) {
    auto m = store_->mailbox(who == AccountId() ? demo_ : who, name);
    EXPECT_TRUE(m) << name;
    return m ? *m : MailboxInfo{};
  }
  // The bodies the store keeps, in files under blobs/, in its database or its body log.
  std::size_t stored_bodies() {
    std::set<std::string> ids;
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(dir_ / "blobs", ec)) {
      if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") {
        ids.insert(e.path().filename().string());
      }
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / "store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT blob_id FROM blob_bytes UNION SELECT blob_id FROM blob_places",
                       -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      ids.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return ids.size();
  }
  // Behind the store's back: a body lost (its file, its row of bytes, its place in the
  // body log), or its bytes replaced by others (a file zeroed in place, say).
  void remove_body(const std::string& id) {
    for (const auto& p : {dir_ / "blobs" / id.substr(0, 2) / id, dir_ / "blobs" / "new" / id}) {
      fs::remove(p);
    }
    sql_behind_the_back(dir_, "DELETE FROM blob_bytes WHERE blob_id = ?1", id);
    sql_behind_the_back(dir_, "DELETE FROM blob_places WHERE blob_id = ?1", id);
  }
  void replace_body(const std::string& id, const std::string& bytes) {
    for (const auto& p : {dir_ / "blobs" / id.substr(0, 2) / id, dir_ / "blobs" / "new" / id}) {
      if (!fs::exists(p)) continue;
      fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
      std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    }
    sql_behind_the_back(dir_, "UPDATE blob_bytes SET bytes = ?2 WHERE blob_id = ?1", id, bytes);
    // In the log: overwritten where it is (as much of `bytes` as its place holds).
    if (auto place = body_place(id)) {
      std::fstream f(dir_ / "segments" / segment_file(place->segment),
                     std::ios::binary | std::ios::in | std::ios::out);
      f.seekp(place->offset);
      f.write(bytes.data(),
              std::min<std::streamsize>(static_cast<std::streamsize>(bytes.size()), place->size));
    }
  }
  // Where the body log keeps a body, read behind the store's back; none when it does not.
  std::optional<BodyPlace> body_place(const std::string& id) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / "store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::optional<BodyPlace> out;
    if (sqlite3_prepare_v2(db, "SELECT segment, offset, size FROM blob_places WHERE blob_id = ?",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(stmt) == SQLITE_ROW) {
        out = BodyPlace{sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                        sqlite3_column_int64(stmt, 2)};
      }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  static std::string segment_file(std::int64_t segment) {
    auto name = std::to_string(segment);
    return std::string(10 - std::min<std::size_t>(10, name.size()), '0') + name + ".seg";
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  AccountId demo_;
};

}  // namespace postino::store::test_support
