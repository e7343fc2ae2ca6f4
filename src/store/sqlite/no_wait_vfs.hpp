// The VFS of the store's reader connections: SQLite's own unix VFS, but for reads made on
// a thread inside a NoWaitScope (store/no_wait.hpp). Those are made only when every page
// they cover is in the page cache (mincore() on a mapping of the file without access,
// which starts no I/O); any other fails with SQLITE_IOERR_READ and marks the scope, and
// the store call gives ErrorKind::would_block. SQLite has no hook for this short of a
// VFS; the shim forwards everything else to the unix VFS unchanged, so locking, WAL and
// shared memory are SQLite's own.
#pragma once

namespace postino::store::sqlite {

// A file control of the VFS (sqlite3_file_control(db, "main", fcntl_descriptor, &fd)): the
// descriptor of the connection's database file, to read ahead of SQLite
// (store/sqlite/read_ahead.hpp). SQLITE_NOTFOUND when it is not known.
inline constexpr int fcntl_descriptor = 0x50535400;

// Registers the VFS once (not as the default) and returns its name for sqlite3_open_v2.
const char* no_wait_vfs();

}  // namespace postino::store::sqlite
