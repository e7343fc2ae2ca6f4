// A compact, versioned binary form of a Structure, stored with each message body so that
// BODYSTRUCTURE and part offsets never need the message parsed again.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mime/part.hpp"

namespace postino::mime {

std::string encode(const Structure& s);
// nullopt for anything that is not a well-formed encoding (never crashes, never reads
// past the input, bounded allocations): decode(encode(x)) == x.
std::optional<Structure> decode(std::string_view bytes);

}  // namespace postino::mime
