// The database's page size (store.page_size): chosen when a store is created, kept by a
// store that exists.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"
#include "store/store_contract.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;
using test_support::StoreContract;

std::unique_ptr<Store> open_with_page_size(const fs::path& dir, std::size_t page_size) {
  SqliteOptions o;
  o.data_dir = dir;
  o.page_size = page_size;
  auto s = open_sqlite_store(o);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

long page_size_of(const fs::path& dir) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2((dir / "store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, nullptr), SQLITE_OK);
  long size = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return size;
}

TEST_P(StoreContract, PageSizeIsChosenWhenTheStoreIsCreatedAndKeptAfter) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "opens its own stores; once is enough";
  EXPECT_EQ(page_size_of(dir_), 4096);  // SqliteOptions' default, as store.page_size's
  store_.reset();
  store_ = open_with_page_size(dir_, 16384);
  ASSERT_TRUE(store_->append(demo_, "INBOX", "Subject: x\r\n\r\nbody\r\n", {}));
  EXPECT_EQ(box("INBOX").messages, 1);
  EXPECT_EQ(page_size_of(dir_), 4096);

  const auto other = dir_ / "other";
  open_with_page_size(other, 16384).reset();
  EXPECT_EQ(page_size_of(other), 16384);
}

}  // namespace
}  // namespace postino::store
