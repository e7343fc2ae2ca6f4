// The SQLite schema as numbered migrations, applied at start in one transaction.
#pragma once

#include "store/sqlite/database.hpp"

namespace postino::store::sqlite {

inline constexpr int schema_version = 12;

// The bodies nothing has referred to for a time (its one parameter, seconds): what garbage
// collection removes, read through the index blobs_unreferenced (migration 11). Now is
// SQLite's, as the triggers that set unreferenced_since take it: std::time() reads a
// coarser clock, up to a tick behind, and a body expunged just after a second began was
// not collected by a tidying with no grace run within that tick.
inline constexpr const char* unreferenced_blobs_query =
    "SELECT id FROM blobs WHERE refs <= 0 AND unreferenced_since <= unixepoch() - ?";

// Applies every migration newer than the database's PRAGMA user_version, with foreign keys
// off and checked before the commit. Throws StoreException (corrupt) when the database is
// newer than this binary or a reference came out broken (nothing is changed then).
void migrate(Database& db);

}  // namespace postino::store::sqlite
