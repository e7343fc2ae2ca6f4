// Reading ahead of SQLite (store/sqlite/read_ahead.hpp): the leaves the walk of a b-tree's
// interior pages names are those that hold the keys asked for, checked against SQLite's own
// account of its pages (the dbstat table); the kernel is asked for them; a connection of
// the no-wait VFS gives its file; and Store::read_ahead leaves messages_details() nothing
// to read from the disk.
#include "store/sqlite/read_ahead.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "store/page_cache_test_support.hpp"
#include "store/sqlite/no_wait_vfs.hpp"
#include "store/store_contract.hpp"

namespace postino::store::sqlite {
namespace {

namespace fs = std::filesystem;

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
}

// One leaf of a b-tree, with the first and last of its keys' positions in key order.
struct Leaf {
  std::uint32_t page;
  std::size_t first, last;
};

// A table of mail-like rows: each of `rows` rows is in one of three mailboxes, with a UID
// counted per mailbox; an index of (mailbox, uid, pad) as messages_list is; the rows' text
// long enough that both b-trees are three levels deep.
class ReadAhead : public ::testing::Test {
 public:
  static constexpr int rows = 30000;

 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-readahead-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_EQ(sqlite3_open((dir_ / "t.db").c_str(), &db_), SQLITE_OK);
    exec(db_, "PRAGMA journal_mode = WAL");
    exec(db_,
         "CREATE TABLE m (id INTEGER PRIMARY KEY, mailbox INTEGER, uid INTEGER, pad TEXT, "
         "body TEXT); CREATE INDEX m_list ON m(mailbox, uid, pad)");
    exec(db_, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                  std::to_string(rows - 1) +
                  ") INSERT INTO m SELECT i + 1, i % 3 + 1, i / 3 + 1, printf('%060d', i), "
                  "printf('%0200d', i) FROM n");
    // The interior pages in the file, not only in the WAL: read ahead parses the file.
    exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    fd_ = ::open((dir_ / "t.db").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    sqlite3_close(db_);
    if (fd_ >= 0) ::close(fd_);
    fs::remove_all(dir_);
  }

  std::uint32_t root(const std::string& name) {
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, "SELECT rootpage FROM sqlite_schema WHERE name = ?", -1, &q,
                                 nullptr),
              SQLITE_OK);
    sqlite3_bind_text(q, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    const auto page = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return static_cast<std::uint32_t>(page);
  }

  // The b-tree's leaves in key order, each with the positions (in key order) of the keys
  // it holds: from dbstat, which names every page by its path from the root. A walk in
  // order counts the cells; an index's interior cells hold keys too, a table's do not.
  std::vector<Leaf> leaves(const std::string& name, bool index) {
    struct Page {
      std::uint32_t page;
      bool leaf;
      std::size_t cells;
    };
    std::map<std::string, Page> by_path;
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT path, pageno, pagetype, ncell FROM dbstat WHERE name = ? "
                                 "AND pagetype IN ('internal', 'leaf')",
                                 -1, &q, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(q, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(q) == SQLITE_ROW) {
      by_path[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))] = {
          static_cast<std::uint32_t>(sqlite3_column_int64(q, 1)),
          std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 2))) == "leaf",
          static_cast<std::size_t>(sqlite3_column_int64(q, 3))};
    }
    sqlite3_finalize(q);
    std::vector<Leaf> out;
    std::size_t position = 0;
    auto visit = [&](auto& self, const std::string& path) -> void {
      const auto& p = by_path.at(path);
      if (p.leaf) {
        out.push_back({p.page, position, position + p.cells - 1});
        position += p.cells;
        return;
      }
      for (std::size_t child = 0; child <= p.cells; ++child) {
        char part[16];
        std::snprintf(part, sizeof part, "%03zx/", child);
        self(self, path + part);
        if (index && child < p.cells) ++position;  // the interior cell's own key
      }
    };
    visit(visit, "/");
    return out;
  }

  fs::path dir_;
  sqlite3* db_ = nullptr;
  int fd_ = -1;
};

// The position in key order of m_list's key (mailbox, uid).
std::size_t position(int mailbox, int uid) {
  return static_cast<std::size_t>(mailbox - 1) * (ReadAhead::rows / 3) + uid - 1;
}

TEST_F(ReadAhead, AnIndexRangeNamesTheLeavesThatHoldItsKeys) {
  const auto file = BtreeFile::open(fd_);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->page_size(), 4096u);
  const auto all = leaves("m_list", true);
  ASSERT_GT(all.size(), 200u);
  // Everything.
  std::vector<std::uint32_t> every;
  for (const auto& l : all) every.push_back(l.page);
  EXPECT_EQ(file->index_leaves(root("m_list"), {0, 0}, {9, 1 << 30}), every);
  // Ranges: each holds at least the leaves of its keys, in key order, and at most one more
  // on each side (a key of an interior page equal to a bound of the range does not tell
  // on which side of it the keys that share its first columns lie).
  const struct {
    int mailbox, first, last;
  } ranges[] = {{2, 1, 10000}, {2, 4000, 4100}, {1, 1, 1}, {3, 10000, 10000}, {3, 5, 9000}};
  for (const auto& r : ranges) {
    std::vector<std::uint32_t> holding;
    for (const auto& l : all) {
      if (l.last >= position(r.mailbox, r.first) && l.first <= position(r.mailbox, r.last))
        holding.push_back(l.page);
    }
    const auto named =
        file->index_leaves(root("m_list"), {r.mailbox, r.first}, {r.mailbox, r.last});
    const auto at = std::search(named.begin(), named.end(), holding.begin(), holding.end());
    EXPECT_NE(at, named.end()) << r.mailbox << ":" << r.first << "-" << r.last;
    EXPECT_LE(named.size(), holding.size() + 2) << r.mailbox << ":" << r.first << "-" << r.last;
  }
  // A mailbox with no rows: at most the leaf where it would be.
  EXPECT_LE(file->index_leaves(root("m_list"), {7, 1}, {7, 100}).size(), 1u);
}

TEST_F(ReadAhead, IndexKeysNameTheLeavesThatHoldThem) {
  const auto file = BtreeFile::open(fd_);
  ASSERT_TRUE(file);
  const auto all = leaves("m_list", true);
  const std::vector<std::vector<std::int64_t>> sets = {
      {1, 2, 500, 501, 5000, 9999, 10000}, {7}, {1}, {10000}, {12000, 13000}};
  for (const auto& uids : sets) {
    std::vector<std::uint32_t> holding;
    for (const auto& l : all) {
      if (std::any_of(uids.begin(), uids.end(), [&](std::int64_t u) {
            const auto at = position(2, static_cast<int>(std::min<std::int64_t>(u, 10000)));
            return at >= l.first && at <= l.last;
          }))
        holding.push_back(l.page);
    }
    const auto named = file->index_leaves(root("m_list"), 2, uids);
    // Each leaf that holds one of the keys, in key order; besides, at most a neighbour
    // for a key that is also an interior page's (see above).
    EXPECT_TRUE(std::includes(named.begin(), named.end(), holding.begin(), holding.end(),
                              [&](std::uint32_t a, std::uint32_t b) {
                                auto rank = [&](std::uint32_t page) {
                                  return std::find_if(
                                             all.begin(), all.end(),
                                             [&](const Leaf& l) { return l.page == page; }) -
                                         all.begin();
                                };
                                return rank(a) < rank(b);
                              }))
        << uids.front();
    EXPECT_LE(named.size(), 2 * holding.size() + 1) << uids.front();
  }
  // Keys of a mailbox with no rows: at most the leaf where they would be.
  const std::vector<std::int64_t> none = {1, 2, 3};
  EXPECT_LE(file->index_leaves(root("m_list"), 7, none).size(), 1u);
  EXPECT_TRUE(file->index_leaves(root("m_list"), 2, std::vector<std::int64_t>{}).empty());
}

TEST_F(ReadAhead, RowidsNameExactlyTheLeavesThatHoldTheirRows) {
  const auto file = BtreeFile::open(fd_);
  ASSERT_TRUE(file);
  const auto all = leaves("m", false);
  ASSERT_GT(all.size(), 500u);
  auto leaves_of = [&](const std::vector<std::int64_t>& rowids) {
    std::vector<std::uint32_t> out;
    for (const auto& l : all) {
      // Rowid r is the row at position r - 1.
      if (std::any_of(rowids.begin(), rowids.end(), [&](std::int64_t r) {
            return static_cast<std::size_t>(r - 1) >= l.first &&
                   static_cast<std::size_t>(r - 1) <= l.last;
          }))
        out.push_back(l.page);
    }
    return out;
  };
  std::vector<std::int64_t> every_third, few = {1, 2, 17, 4000, 4001, 29999, 30000},
                                         missing = {40000, 50000};
  for (std::int64_t r = 2; r <= rows; r += 3) every_third.push_back(r);
  EXPECT_EQ(file->table_leaves(root("m"), every_third), leaves_of(every_third));
  EXPECT_EQ(file->table_leaves(root("m"), few), leaves_of(few));
  // Rowids past the last row lead to the last leaf, where they would be.
  EXPECT_EQ(file->table_leaves(root("m"), missing), std::vector<std::uint32_t>{all.back().page});
  EXPECT_TRUE(file->table_leaves(root("m"), {}).empty());
}

TEST_F(ReadAhead, PagesThatDoNotParseEndTheWalkWithoutHarm) {
  const auto file = BtreeFile::open(fd_);
  ASSERT_TRUE(file);
  std::vector<std::int64_t> rowids = {5, 6};
  // A root past the end of the file, page 0, a leaf of another tree: no walk, or that page.
  EXPECT_TRUE(file->table_leaves(1u << 30, rowids).empty());
  EXPECT_TRUE(file->index_leaves(0, {1, 1}, {1, 2}).empty());
  // A leaf of a table as the root of a table: that leaf; of an index: nothing.
  const auto a_leaf = leaves("m", false).front().page;
  EXPECT_EQ(file->table_leaves(a_leaf, rowids), std::vector<std::uint32_t>{a_leaf});
  EXPECT_TRUE(file->index_leaves(a_leaf, {1, 1}, {1, 2}).empty());
  // Not a database.
  const auto other = dir_ / "not-a-db";
  {
    std::FILE* f = std::fopen(other.c_str(), "w");
    std::fputs(std::string(8192, 'x').c_str(), f);
    std::fclose(f);
  }
  const int fd = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(BtreeFile::open(fd));
  ::close(fd);
}

TEST_F(ReadAhead, TheKernelReadsTheLeavesNamed) {
  const auto file = BtreeFile::open(fd_);
  ASSERT_TRUE(file);
  const auto named = file->index_leaves(root("m_list"), {2, 2000}, {2, 2400});
  ASSERT_FALSE(named.empty());
  if (!test_support::evict_from_page_cache(dir_ / "t.db"))
    GTEST_SKIP() << "this file system keeps files in memory";
  const auto size = fs::file_size(dir_ / "t.db");
  void* map = ::mmap(nullptr, size, PROT_NONE, MAP_SHARED, fd_, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto resident = [&](std::uint32_t page) {
    unsigned char in = 0;
    const auto at = static_cast<char*>(map) + static_cast<std::size_t>(page - 1) * 4096;
    return ::mincore(at, 4096, &in) == 0 && (in & 1);
  };
  for (const auto page : named) EXPECT_FALSE(resident(page)) << page;
  file->will_need(named);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!std::all_of(named.begin(), named.end(), resident) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (const auto page : named) EXPECT_TRUE(resident(page)) << page;
  ::munmap(map, size);
}

TEST(ReadAheadVfs, AConnectionOfTheNoWaitVfsGivesItsFile) {
  const auto dir =
      fs::temp_directory_path() / ("postino-readahead-vfs-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto path = (dir / "t.db").string();
  sqlite3* plain = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &plain), SQLITE_OK);
  exec(plain, "PRAGMA page_size = 8192; CREATE TABLE t (x)");
  EXPECT_FALSE(BtreeFile::of(plain));  // SQLite's own VFS does not tell its descriptor
  sqlite3* shim = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &shim, SQLITE_OPEN_READONLY, no_wait_vfs()), SQLITE_OK);
  exec(shim, "SELECT count(*) FROM t");
  const auto file = BtreeFile::of(shim);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->page_size(), 8192u);
  sqlite3_close(shim);
  sqlite3_close(plain);
  fs::remove_all(dir);
}

// What the calling thread has read from block devices so far (512-byte units).
long blocks_read() {
  rusage usage{};
  return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_inblock : 0;
}

TEST(StoreReadAhead, TheDetailsOfTheMessagesToldOfAreReadAheadOfTheirQuery) {
  const auto dir =
      fs::temp_directory_path() / ("postino-readahead-store-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = test_support::open_sqlite_inline(dir, std::chrono::seconds(3600));
  ASSERT_TRUE(store->create_domain("example.test"));
  const auto demo = store->create_account("demo@example.test", "$y$hash", "");
  ASSERT_TRUE(demo);
  // Long subjects: the kept ENVELOPEs and fields fill some 400 pages.
  constexpr std::uint32_t count = 1500;
  for (std::uint32_t i = 1; i <= count; ++i) {
    ASSERT_TRUE(store->deliver(
        {*demo}, "Subject: " + std::to_string(i) + std::string(300, 's') + "\r\n\r\nbody\r\n"));
  }
  const auto inbox = store->mailbox(*demo, "INBOX")->id;
  // Reads of all the details, in a store just opened (its rows in store.db, no reader
  // holding a page) and out of the page cache: the blocks this thread read.
  using Parts = Store::DetailParts;
  auto blocks_for_details = [&](bool told, Parts parts) -> long {
    store.reset();  // the last connection's close copies the WAL into store.db
    store = test_support::open_sqlite_inline(dir, std::chrono::seconds(3600));
    EXPECT_TRUE(store->mailbox_summary(*demo, "INBOX"));  // a reader, its schema read
    if (!test_support::evict_from_page_cache(dir / "store.db")) return -1;
    if (told) store->read_ahead(*demo, inbox, Uid(1), Uid(count), parts);
    const auto before = blocks_read();
    auto details = store->messages_details(*demo, inbox, Uid(1), Uid(count), parts);
    EXPECT_TRUE(details);
    EXPECT_EQ(details->size(), count);
    return blocks_read() - before;
  };
  for (const auto parts : {Parts::envelope, Parts::all}) {
    const auto untold = blocks_for_details(false, parts);
    if (untold < 0) GTEST_SKIP() << "this file system keeps the pages of its files";
    const auto told = blocks_for_details(true, parts);
    EXPECT_GT(untold, 800) << static_cast<int>(parts);  // a hundred pages and more
    EXPECT_LT(told, untold / 10) << static_cast<int>(parts);
  }
  // Another account's mailbox is not read ahead (nor is anything said of it).
  const auto other = store->create_account("other@example.test", "$y$hash", "");
  ASSERT_TRUE(other);
  store->read_ahead(*other, inbox, Uid(1), Uid(count), Parts::all);
  store.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace postino::store::sqlite
