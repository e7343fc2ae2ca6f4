#include "store/sqlite/read_ahead.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "store/sqlite/no_wait_vfs.hpp"

namespace postino::store::sqlite {
namespace {

// Page types (file format §1.6).
constexpr unsigned char interior_index = 2;
constexpr unsigned char interior_table = 5;
constexpr unsigned char leaf_index = 10;
constexpr unsigned char leaf_table = 13;
// Deeper than any b-tree of a file of 2^32 pages: a walk that goes on is a damaged page.
constexpr int max_depth = 20;

std::uint32_t be(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// A varint (§2.1: one to nine bytes, big-endian, seven bits a byte but the ninth's eight)
// from p[at], below end; nullopt when it runs past end.
std::optional<std::uint64_t> varint(std::string_view p, std::size_t& at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 9; ++i) {
    if (at >= p.size()) return std::nullopt;
    const auto byte = static_cast<unsigned char>(p[at++]);
    if (i == 8) return (v << 8) | byte;
    v = (v << 7) | (byte & 0x7f);
    if (!(byte & 0x80)) return v;
  }
  return v;
}

// The integer of record serial type `type` at p[at] (§2.1), moving at past it; nullopt for
// another type (NULL, a real, text or a blob) or bytes past the page.
std::optional<std::int64_t> record_integer(std::string_view p, std::size_t& at,
                                           std::uint64_t type) {
  static constexpr int widths[] = {0, 1, 2, 3, 4, 6, 8};
  if (type == 8 || type == 9) return static_cast<std::int64_t>(type - 8);
  if (type == 0 || type > 6) return std::nullopt;
  const auto bytes = static_cast<std::size_t>(widths[type]);
  if (at + bytes > p.size()) return std::nullopt;
  // Big-endian two's complement: the first byte's sign fills the rest.
  std::uint64_t v = static_cast<signed char>(p[at]) < 0 ? ~std::uint64_t{0} : 0;
  for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[at + i]);
  at += bytes;
  return static_cast<std::int64_t>(v);
}

// The first two columns of the index key whose cell payload begins at p[at] (after the
// child page number): its size, then the record's header (its length, the serial types)
// and values. nullopt when they are not two integers or run past the page (a key longer
// than a page continues on overflow pages, but its first columns are on this one).
std::optional<BtreeFile::Key2> index_key(std::string_view p, std::size_t at) {
  if (!varint(p, at)) return std::nullopt;  // the payload's size
  const std::size_t record = at;
  const auto header = varint(p, at);
  const auto first = header ? varint(p, at) : std::nullopt;
  const auto second = first ? varint(p, at) : std::nullopt;
  if (!second || *header > p.size() - record) return std::nullopt;
  std::size_t value = record + static_cast<std::size_t>(*header);
  const auto a = record_integer(p, value, *first);
  const auto b = a ? record_integer(p, value, *second) : std::nullopt;
  if (!b) return std::nullopt;
  return BtreeFile::Key2{*a, *b};
}

// An interior page's cells: calls fn(child page, offset of the rest of the cell) for each,
// in key order, until fn returns false, and gives the right-most child (0 when the page
// does not parse).
template <class Fn>
std::uint32_t each_cell(std::string_view p, std::size_t header, Fn fn) {
  const auto* u = reinterpret_cast<const unsigned char*>(p.data());
  const auto cells = be(u + header + 3, 2);
  const std::size_t pointers = header + 12;
  if (pointers + 2 * std::size_t{cells} > p.size()) return 0;
  for (std::uint32_t i = 0; i < cells; ++i) {
    const std::size_t cell = be(u + pointers + 2 * i, 2);
    if (cell + 4 > p.size()) return 0;
    if (!fn(be(u + cell, 4), cell + 4)) break;
  }
  return be(u + header + 8, 4);
}

}  // namespace

std::optional<BtreeFile> BtreeFile::of(sqlite3* db) {
  int fd = -1;
  if (sqlite3_file_control(db, "main", fcntl_descriptor, &fd) != SQLITE_OK || fd < 0)
    return std::nullopt;
  return open(fd);
}

std::optional<BtreeFile> BtreeFile::open(int fd) {
  unsigned char header[100];
  struct stat st {};
  if (::pread(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      std::memcmp(header, "SQLite format 3", 16) != 0 || ::fstat(fd, &st) != 0) {
    return std::nullopt;
  }
  // §1.3.2: a power of two from 512 to 65536, which is written as 1.
  std::uint32_t page_size = be(header + 16, 2);
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0)
    return std::nullopt;
  return BtreeFile(fd, page_size, static_cast<std::uint64_t>(st.st_size) / page_size);
}

std::optional<std::string> BtreeFile::read_page(std::uint32_t page) const {
  if (page == 0 || page > pages_) return std::nullopt;
  std::string bytes(page_size_, '\0');
  const auto at = static_cast<off_t>(page - 1) * page_size_;
  if (::pread(fd_, bytes.data(), bytes.size(), at) != static_cast<ssize_t>(bytes.size()))
    return std::nullopt;
  return bytes;
}

template <class Children>
std::vector<std::uint32_t> BtreeFile::walk(std::uint32_t root, bool index,
                                           std::span<const std::int64_t> rowids,
                                           Children children) const {
  const unsigned char interior = index ? interior_index : interior_table;
  const unsigned char leaf = index ? leaf_index : leaf_table;
  std::vector<std::uint32_t> leaves;
  std::vector<Visit> level{{root, rowids}};
  for (int depth = 0; depth < max_depth && !level.empty(); ++depth) {
    std::vector<std::uint32_t> pages;
    for (const auto& v : level) pages.push_back(v.page);
    // Every leaf of a b-tree is at the same depth: when the first page of a level is a
    // leaf, so are the others, and they are only named to the kernel, not read.
    const auto first = read_page(pages.front());
    const auto type = [&](const std::string& p, std::uint32_t page) {
      return static_cast<unsigned char>(p[page == 1 ? 100 : 0]);
    };
    if (!first) break;
    if (type(*first, pages.front()) == leaf) {
      leaves.insert(leaves.end(), pages.begin(), pages.end());
      break;
    }
    if (pages.size() > 1) will_need(pages);  // the interior pages of this level, together
    std::vector<Visit> next;
    for (const auto& v : level) {
      const auto page = v.page == level.front().page ? first : read_page(v.page);
      if (!page) continue;
      const std::size_t header = v.page == 1 ? 100 : 0;
      if (type(*page, v.page) == leaf) {
        leaves.push_back(v.page);  // an older copy than the WAL's: named all the same
      } else if (type(*page, v.page) == interior && header + 12 <= page->size()) {
        children(std::string_view(*page), header, v, next);
      }
    }
    // A level of a sound b-tree names each page once: more pages than the file holds is
    // pages that point back up the tree (damage, or copies older than the WAL's).
    if (next.size() > pages_) break;
    level = std::move(next);
  }
  return leaves;
}

std::vector<std::uint32_t> BtreeFile::index_leaves(std::uint32_t root, Key2 low, Key2 high) const {
  return walk(root, true, {},
              [&](std::string_view p, std::size_t header, const Visit&, std::vector<Visit>& next) {
                // A child holds the keys between its cell's key and the one before; a key
                // that does not parse bounds nothing. Once a key is above `high`, every
                // child after it is too.
                // `before` bounds nothing for the page's first child, or when it did not parse.
                Key2 before{};
                bool bounded = false;
                bool past = false;
                const auto right = each_cell(p, header, [&](std::uint32_t child, std::size_t at) {
                  if (bounded && before > high) {
                    past = true;
                    return false;
                  }
                  const auto key = index_key(p, at);
                  if (!key || !(*key < low)) next.push_back({child, {}});
                  bounded = key.has_value();
                  if (key) before = *key;
                  return true;
                });
                if (right != 0 && !past && !(bounded && before > high)) next.push_back({right, {}});
              });
}

std::vector<std::uint32_t> BtreeFile::index_leaves(std::uint32_t root, std::int64_t first,
                                                   std::span<const std::int64_t> seconds) const {
  if (seconds.empty()) return {};
  return walk(
      root, true, seconds,
      [&](std::string_view p, std::size_t header, const Visit& v, std::vector<Visit>& next) {
        // A child holds the keys up to its cell's key (below it, but a key that shares
        // its first two columns may be on either side). A key that does not parse bounds
        // nothing: what is left may be in that child or after.
        auto rest = v.rowids;
        const auto right = each_cell(p, header, [&](std::uint32_t child, std::size_t at) {
          const auto key = index_key(p, at);
          if (!key) {
            next.push_back({child, rest});
            return true;
          }
          const auto upto =
              std::upper_bound(rest.begin(), rest.end(), *key, [&](const Key2& k, std::int64_t s) {
                return k < Key2{first, s};
              });
          const auto below =
              std::lower_bound(rest.begin(), rest.end(), *key, [&](std::int64_t s, const Key2& k) {
                return Key2{first, s} < k;
              });
          if (upto != rest.begin()) next.push_back({child, rest.first(upto - rest.begin())});
          rest = rest.subspan(static_cast<std::size_t>(below - rest.begin()));
          return !rest.empty();
        });
        if (right != 0 && !rest.empty()) next.push_back({right, rest});
      });
}

std::vector<std::uint32_t> BtreeFile::table_leaves(std::uint32_t root,
                                                   std::span<const std::int64_t> rowids) const {
  if (rowids.empty()) return {};
  std::vector<std::uint32_t> leaves =
      walk(root, false, rowids,
           [&](std::string_view p, std::size_t header, const Visit& v, std::vector<Visit>& next) {
             // A child holds the rows up to its cell's key (and after the one before).
             auto rest = v.rowids;
             const auto right = each_cell(p, header, [&](std::uint32_t child, std::size_t at) {
               const auto key = varint(p, at);
               if (!key) {  // bounds nothing: what is left may be here or after
                 next.push_back({child, rest});
                 return true;
               }
               const auto upto =
                   std::upper_bound(rest.begin(), rest.end(), static_cast<std::int64_t>(*key));
               const auto n = static_cast<std::size_t>(upto - rest.begin());
               if (n > 0) next.push_back({child, rest.first(n)});
               rest = rest.subspan(n);
               return !rest.empty();
             });
             if (right != 0 && !rest.empty()) next.push_back({right, rest});
           });
  return leaves;
}

void BtreeFile::will_need(std::vector<std::uint32_t> pages) const {
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  for (std::size_t i = 0; i < pages.size();) {
    std::size_t run = 1;
    while (i + run < pages.size() && pages[i + run] == pages[i] + run) ++run;
    (void)::posix_fadvise(fd_, static_cast<off_t>(pages[i] - 1) * page_size_,
                          static_cast<off_t>(run) * page_size_, POSIX_FADV_WILLNEED);
    i += run;
  }
}

}  // namespace postino::store::sqlite
