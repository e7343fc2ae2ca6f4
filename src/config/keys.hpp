// The table of configuration keys: name, type, documentation, and how to read and show the
// value. Everything that knows a key's name goes through this table.
#pragma once

#include <toml++/toml.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace postino::config {

struct Key {
  std::string name;  // dotted: "smtp.max_line_bytes"
  std::string type;  // for the documentation: "integer", "seconds", "string", …
  std::string doc;
  // Stores the TOML value into the config; returns an error message, or "" when accepted.
  std::function<std::string(Config&, const toml::node&)> set;
  // The current value as a TOML literal.
  std::function<std::string(const Config&)> show;
};

const std::vector<Key>& keys();
const Key* find_key(std::string_view name);

// Quotes a string as a TOML basic string.
std::string toml_quote(std::string_view s);

}  // namespace postino::config
