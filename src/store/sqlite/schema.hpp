// The SQLite schema as numbered migrations, applied at start in one transaction.
#pragma once

#include "store/sqlite/database.hpp"

namespace postino::store::sqlite {

inline constexpr int schema_version = 10;

// Applies every migration newer than the database's PRAGMA user_version, with foreign keys
// off and checked before the commit. Throws StoreException (corrupt) when the database is
// newer than this binary or a reference came out broken (nothing is changed then).
void migrate(Database& db);

}  // namespace postino::store::sqlite
