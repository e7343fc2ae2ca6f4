// File system calls shared by the two places that keep bodies in files of their own
// making: the blob store (file_blob_store.cpp) and the body log (body_log.cpp).
#pragma once

#include <filesystem>
#include <string>

#include "store/error.hpp"

namespace postino::store {

// An errno as a store error: ENOSPC and EDQUOT are a full disk (SMTP answers 452 4.3.1,
// IMAP NO [OVERQUOTA]), anything else is temporary.
Error io_error(const std::string& what, int err);

// fsync with its duration recorded (metrics: postino_store_sync_duration_seconds); errno
// is the fsync's.
enum class Sync { file, directory };
int timed_fsync(int fd, Sync kind);

// fsync of a directory, so that the names made in it are durable. An fsync error is never
// retried and never reported as success (RELIABILITY F02).
Result<void> fsync_dir(const std::filesystem::path& dir);

}  // namespace postino::store
