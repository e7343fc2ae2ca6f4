// Loading TOML configuration onto a Config, collecting every error with its position.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace postino::config {

struct ConfigError {
  std::string source;  // file name, or "<string>"
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;
  // "FILE:LINE:COLUMN: MESSAGE", the form compilers use, so editors can jump to it.
  std::string str() const;
};

// Applies the TOML document `text` onto `config`. Keys not in the table, values of the
// wrong type or out of range are errors; all of them are reported, not just the first.
// On a syntax error nothing is applied. `config` is unchanged when errors are returned.
std::vector<ConfigError> apply_toml(Config& config, std::string_view text,
                                    std::string_view source_name);

// Reads and applies a file; an unreadable file is one error at line 0.
std::vector<ConfigError> apply_file(Config& config, const std::filesystem::path& path);

// Checks that need more than one key (TLS listeners need a certificate, and so on).
std::vector<ConfigError> validate(const Config& config, std::string_view source_name);

}  // namespace postino::config
