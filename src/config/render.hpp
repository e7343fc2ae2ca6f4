// Renders the key table: the commented example config and docs/CONFIG.md.
#pragma once

#include <string>

namespace postino::config {

// Every key with its default and a one-line doc, as a TOML file that loads unchanged.
std::string render_example();
// docs/CONFIG.md: one table per section with key, type, default and meaning.
std::string render_markdown();

}  // namespace postino::config
