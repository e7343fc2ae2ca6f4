// The SQLite schema as numbered migrations, applied at start in one transaction.
#pragma once

#include "store/sqlite/database.hpp"

namespace postino::store::sqlite {

inline constexpr int schema_version = 9;

// Applies every migration newer than the database's PRAGMA user_version. Throws
// StoreException (corrupt) when the database is newer than this binary.
void migrate(Database& db);

}  // namespace postino::store::sqlite
