// The SQLite schema as numbered migrations, applied at start in one transaction.
#pragma once

#include "store/sqlite/database.hpp"

namespace postino::store::sqlite {

inline constexpr int schema_version = 10;

// Applies every migration newer than the database's PRAGMA user_version, up to `target`
// (tests migrate to an older version to build a store as it was). Throws StoreException
// (corrupt) when the database is newer than this binary.
void migrate(Database& db, int target = schema_version);

}  // namespace postino::store::sqlite
