// The reader connections' VFS; see no_wait_vfs.hpp.
#include "store/sqlite/no_wait_vfs.hpp"

#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <mutex>

#include "store/no_wait.hpp"
#include "store/sqlite/database.hpp"

namespace postino::store::sqlite {
namespace {

sqlite3_vfs* unix_vfs = nullptr;  // SQLite's default, which does the work
sqlite3_vfs shim;

// A file of the shim: its own header, then the unix VFS's file (szOsFile bytes).
struct File {
  sqlite3_file base;
  sqlite3_file* real;
  int fd;  // the real file's descriptor, or -1 (no-wait reads then fail)
  // The file mapped without access (PROT_NONE), only for mincore() to tell which of its
  // pages are in the page cache; mapped at the first no-wait read, again when it grew.
  char* map;
  std::size_t mapped;
};

sqlite3_file* real(sqlite3_file* f) {
  return reinterpret_cast<File*>(f)->real;
}

// SQLite has no interface that gives a file's descriptor. The unix VFS's file begins
// with three pointers and the descriptor, as it has since 2008; the descriptor found there
// is used only if it is the file just opened (same device and inode as its path), so a
// different layout makes no-wait reads fail (and the caller use a worker), never look at
// the wrong file. A descriptor of our own would not do: closing it drops every POSIX lock
// the process holds on the file, SQLite's included.
struct UnixFileStart {
  const void* methods;
  void* vfs;
  void* inode;
  int fd;
};

int descriptor_of(sqlite3_file* opened, const char* path) {
  if (!path) return -1;
  const int fd = reinterpret_cast<UnixFileStart*>(opened)->fd;
  struct stat by_fd {};
  struct stat by_path {};
  if (fd < 0 || ::fstat(fd, &by_fd) != 0 || ::stat(path, &by_path) != 0) return -1;
  return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino ? fd : -1;
}

int x_close(sqlite3_file* f) {
  auto* file = reinterpret_cast<File*>(f);
  if (file->map) ::munmap(file->map, file->mapped);
  return real(f)->pMethods->xClose(real(f));
}

// Maps at least the first `end` bytes of the file (twice what was mapped before, 64 MiB at
// first; mapping past the end of a file is allowed, and nothing is ever accessed through
// it); false when it cannot.
bool map_through(File& file, std::size_t end) {
  if (file.map && end <= file.mapped) return true;
  if (file.fd < 0) return false;
  auto size = std::max(file.mapped * 2, std::size_t{64} << 20);
  while (size < end) size *= 2;
  void* map = ::mmap(nullptr, size, PROT_NONE, MAP_SHARED, file.fd, 0);
  if (map == MAP_FAILED) return false;
  if (file.map) ::munmap(file.map, file.mapped);
  file.map = static_cast<char*>(map);
  file.mapped = size;
  return true;
}

// Whether every page of [offset, offset + amount) is in the page cache. mincore() starts
// no I/O, where preadv2(RWF_NOWAIT) of a missing page starts reading it (and the kernel's
// readahead around it) before it fails.
bool in_page_cache(File& file, sqlite3_int64 offset, int amount) {
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (offset < 0 || amount <= 0) return false;
  const auto first = static_cast<std::size_t>(offset) / page * page;
  const auto end = static_cast<std::size_t>(offset) + static_cast<std::size_t>(amount);
  if (!map_through(file, end)) return false;
  std::array<unsigned char, 32> resident{};
  const auto pages = (end - first + page - 1) / page;
  if (pages > resident.size()) return false;
  if (::mincore(file.map + first, end - first, resident.data()) != 0) return false;
  for (std::size_t i = 0; i < pages; ++i) {
    if (!(resident[i] & 1)) return false;
  }
  return true;
}

int x_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  // Inside a NoWaitScope, only what the page cache holds is read (a page evicted between
  // the check and the read is read from the disk: rare, and one page).
  if (no_wait() && !in_page_cache(*reinterpret_cast<File*>(f), offset, amount)) {
    note_would_block();
    return SQLITE_IOERR_READ;
  }
  return real(f)->pMethods->xRead(real(f), buffer, amount, offset);
}

int x_write(sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xWrite(real(f), buffer, amount, offset);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real(f)->pMethods->xTruncate(real(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
  return real(f)->pMethods->xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int x_lock(sqlite3_file* f, int level) {
  return real(f)->pMethods->xLock(real(f), level);
}
int x_unlock(sqlite3_file* f, int level) {
  return real(f)->pMethods->xUnlock(real(f), level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  if (op == fcntl_descriptor) {
    const int fd = reinterpret_cast<File*>(f)->fd;
    if (fd < 0) return SQLITE_NOTFOUND;
    *static_cast<int*>(arg) = fd;
    return SQLITE_OK;
  }
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return real(f)->pMethods->xSectorSize(real(f));
}
int x_device_characteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int x_shm_map(sqlite3_file* f, int page, int page_size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, page_size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real(f)->pMethods->xShmBarrier(real(f));
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return real(f)->pMethods->xShmUnmap(real(f), delete_flag);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  // Memory-mapped reads (PRAGMA mmap_size, off in the store) could fault on the disk.
  if (no_wait()) {
    *out = nullptr;  // SQLite then reads with xRead
    return SQLITE_OK;
  }
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), offset, p);
}

// Version 3 methods; the unix VFS's files all have version 3 (checked at open).
const sqlite3_io_methods methods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, sqlite3_filename path, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<File*>(f);
  file->base.pMethods = nullptr;  // SQLite calls xClose only on files that opened
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->fd = -1;
  file->map = nullptr;
  file->mapped = 0;
  const int rc = unix_vfs->xOpen(unix_vfs, path, file->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  if (!file->real->pMethods || file->real->pMethods->iVersion < 3) {
    if (file->real->pMethods) file->real->pMethods->xClose(file->real);
    return SQLITE_CANTOPEN;
  }
  if (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) file->fd = descriptor_of(file->real, path);
  file->base.pMethods = &methods;
  return SQLITE_OK;
}

}  // namespace

const char* no_wait_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    configure_sqlite();
    unix_vfs = sqlite3_vfs_find(nullptr);
    shim = *unix_vfs;
    shim.zName = "postino-no-wait";
    shim.szOsFile = static_cast<int>(sizeof(File)) + unix_vfs->szOsFile;
    shim.xOpen = x_open;
    shim.pNext = nullptr;
    sqlite3_vfs_register(&shim, 0);
  });
  return shim.zName;
}

}  // namespace postino::store::sqlite
