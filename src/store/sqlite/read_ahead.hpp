// Asking the disk for the pages of a range of rows before SQLite reads them. The leaf
// pages of a mailbox's rows lie scattered over store.db (written as the mail arrived, among
// the other tables' pages), and SQLite's cursor reads them one at a time as it reaches
// them: one disk round trip each when the page cache does not hold them. FETCH 1:*
// (ENVELOPE) of 100,000 messages reads some 7,900 pages that way. Told of them all at once
// (POSIX_FADV_WILLNEED), the kernel sends the disk many reads together, which it serves in
// parallel (on the reference machine 44 us a page one at a time, 11 us told at once).
//
// SQLite has no interface that says which pages hold a range of keys, so the b-tree's
// interior pages are read from the file and parsed here, as the file format documents them
// (https://www.sqlite.org/fileformat2.html §1.6 and §2.1; the format has been stable since
// 2004). The leaves themselves are only named to the kernel, never read here. A hint only:
// the file may hold an older copy of an interior page than the WAL does (a checkpoint not
// yet made), and then the wrong leaves are read ahead, which costs a disk read and
// nothing else; a page that does not parse is not followed.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace postino::store::sqlite {

class BtreeFile {
 public:
  // The first two columns of an index key, both integers (messages_list: mailbox_id, uid).
  using Key2 = std::pair<std::int64_t, std::int64_t>;

  // The main database file of `db`, a connection of the no-wait VFS (store/sqlite/
  // no_wait_vfs.hpp), which knows its descriptor; nullopt when it does not, or when the
  // file's header does not parse. The descriptor stays SQLite's: it is never closed here.
  static std::optional<BtreeFile> of(sqlite3* db);
  // The database file open as `fd` (tests).
  static std::optional<BtreeFile> open(int fd);

  // The leaf pages of the index b-tree rooted at `root` that may hold keys whose first two
  // columns, compared as a pair, are from `low` to `high`; in key order.
  std::vector<std::uint32_t> index_leaves(std::uint32_t root, Key2 low, Key2 high) const;
  // The same for the keys (first, s) of each s of `seconds` (ascending).
  std::vector<std::uint32_t> index_leaves(std::uint32_t root, std::int64_t first,
                                          std::span<const std::int64_t> seconds) const;
  // The leaf pages of the table b-tree rooted at `root` that hold the rows of `rowids`
  // (ascending); in key order.
  std::vector<std::uint32_t> table_leaves(std::uint32_t root,
                                          std::span<const std::int64_t> rowids) const;
  // Asks the kernel to read `pages` into the page cache, without waiting for them
  // (POSIX_FADV_WILLNEED, runs of adjacent pages asked together).
  void will_need(std::vector<std::uint32_t> pages) const;

  std::uint32_t page_size() const { return page_size_; }

 private:
  BtreeFile(int fd, std::uint32_t page_size, std::uint64_t pages)
      : fd_(fd), page_size_(page_size), pages_(pages) {}

  // One level of a walk: the pages to look at, with what each is to find (for an index,
  // nothing; for a table, its share of the rowids).
  struct Visit {
    std::uint32_t page;
    std::span<const std::int64_t> rowids;
  };
  template <class Children>
  std::vector<std::uint32_t> walk(std::uint32_t root, bool index,
                                  std::span<const std::int64_t> rowids, Children children) const;
  // The page's bytes, or nullopt (out of the file, a short read).
  std::optional<std::string> read_page(std::uint32_t page) const;

  int fd_;
  std::uint32_t page_size_;
  std::uint64_t pages_;  // in the file when opened
};

}  // namespace postino::store::sqlite
