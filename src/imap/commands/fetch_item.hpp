// The FETCH attributes (RFC 3501 §6.4.5, RFC 3516, RFC 7162) as the command names them:
// a pure parser from an attribute's text to what FETCH must answer, with the response
// name it answers under, and the <origin.octets> arithmetic of partial fetches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "imap/wire/section.hpp"

namespace postino::imap {

struct FetchItem {
  enum class Kind {
    flags,
    uid,
    modseq,
    internal_date,
    size,
    envelope,
    structure,
    text,
    binary,      // BINARY[section] (RFC 3516): the part's content, transfer encoding undone
    binary_size  // BINARY.SIZE[section]
  } kind = Kind::flags;
  wire::Section section;  // for text
  std::string name;       // as written in the response: "BODY[HEADER]<0>", "RFC822", …
  bool sets_seen = false;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> partial;
};

FetchItem make_fetch_item(FetchItem::Kind kind, wire::Section::Text text, std::string name,
                          bool sets_seen = false);

// One fetch attribute ("FLAGS", "BODY.PEEK[1.HEADER]<0.100>", …); nullopt with `error`
// set (the BAD text) when it is malformed or unknown.
std::optional<FetchItem> parse_fetch_item(const std::string& raw, std::string& error);

// <origin.octets> of a section `size` bytes long (RFC 3501 §6.4.5): where the answer
// starts and how long it is; the whole section without a partial.
std::pair<std::uint64_t, std::uint64_t> clip_partial(const FetchItem& item, std::uint64_t size);

}  // namespace postino::imap
