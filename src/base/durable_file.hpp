// Writing a small file so that a crash leaves either the old file or the whole new one:
// a temporary file beside it, fsync, rename, fsync of the directory.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace postino::base {

// Writes `bytes` to `path` (created with `mode`, replacing it). Returns "" or what failed.
std::string write_file_durably(const std::filesystem::path& path, std::string_view bytes,
                               mode_t mode);

}  // namespace postino::base
