// FETCH attributes; see fetch_item.hpp.
#include "imap/commands/fetch_item.hpp"

#include <algorithm>
#include <charconv>

#include "base/ascii.hpp"

namespace postino::imap {

FetchItem make_fetch_item(FetchItem::Kind kind, wire::Section::Text text, std::string name,
                          bool sets_seen) {
  FetchItem f;
  f.kind = kind;
  f.section.text = text;
  f.name = std::move(name);
  f.sets_seen = sets_seen;
  return f;
}

std::optional<FetchItem> parse_fetch_item(const std::string& raw, std::string& error) {
  const auto item = base::to_upper(raw);
  if (item == "FLAGS") return make_fetch_item(FetchItem::Kind::flags, {}, "FLAGS");
  if (item == "UID") return make_fetch_item(FetchItem::Kind::uid, {}, "UID");
  if (item == "MODSEQ") return make_fetch_item(FetchItem::Kind::modseq, {}, "MODSEQ");  // RFC 7162
  if (item == "INTERNALDATE")
    return make_fetch_item(FetchItem::Kind::internal_date, {}, "INTERNALDATE");
  if (item == "RFC822.SIZE") return make_fetch_item(FetchItem::Kind::size, {}, "RFC822.SIZE");
  if (item == "ENVELOPE") return make_fetch_item(FetchItem::Kind::envelope, {}, "ENVELOPE");
  if (item == "BODYSTRUCTURE")
    return make_fetch_item(FetchItem::Kind::structure, {}, "BODYSTRUCTURE");
  if (item == "BODY") return make_fetch_item(FetchItem::Kind::structure, {}, "BODY");
  if (item == "RFC822") return make_fetch_item(FetchItem::Kind::text, {}, "RFC822", true);
  if (item == "RFC822.HEADER")
    return make_fetch_item(FetchItem::Kind::text, wire::Section::Text::header, "RFC822.HEADER");
  if (item == "RFC822.TEXT")
    return make_fetch_item(FetchItem::Kind::text, wire::Section::Text::text, "RFC822.TEXT", true);
  const bool peek = item.starts_with("BODY.PEEK[") || item.starts_with("BINARY.PEEK[");
  const bool binary_size = item.starts_with("BINARY.SIZE[");
  const bool binary =
      binary_size || item.starts_with("BINARY[") || item.starts_with("BINARY.PEEK[");
  if (!peek && !binary && !item.starts_with("BODY[")) {
    error = "Unknown fetch item " + item;
    return std::nullopt;
  }
  // The section as written (HEADER.FIELDS names keep their case), up to the last "]".
  const auto open = raw.find('['), close = raw.rfind(']');
  if (close == std::string::npos || close < open) {
    error = "Missing ]";
    return std::nullopt;
  }
  auto section = wire::parse_section(std::string_view(raw).substr(open + 1, close - open - 1));
  if (!section) {
    error = "Invalid section";
    return std::nullopt;
  }
  if (binary && section->text != wire::Section::Text::all) {
    error = "BINARY takes part numbers only";  // RFC 3516 §4.2: section-binary
    return std::nullopt;
  }
  FetchItem f;
  f.kind = binary_size ? FetchItem::Kind::binary_size
           : binary    ? FetchItem::Kind::binary
                       : FetchItem::Kind::text;
  f.section = std::move(*section);
  f.sets_seen = !peek && !binary_size;
  f.name = (binary_size ? "BINARY.SIZE[" : binary ? "BINARY[" : "BODY[") + f.section.name + "]";
  const auto rest = std::string_view(item).substr(item.rfind(']') + 1);
  if (!rest.empty() && binary_size) {
    error = "Invalid partial";
    return std::nullopt;
  }
  if (!rest.empty()) {
    // <origin.octets> (RFC 3501 §6.4.5)
    std::uint64_t origin = 0, octets = 0;
    const auto dot = rest.find('.');
    auto parse = [](std::string_view digits, std::uint64_t& v) {
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      return !digits.empty() && ec == std::errc{} && end == digits.data() + digits.size();
    };
    if (rest.front() != '<' || rest.back() != '>' || dot == std::string_view::npos ||
        !parse(rest.substr(1, dot - 1), origin) ||
        !parse(rest.substr(dot + 1, rest.size() - dot - 2), octets) || octets == 0) {
      error = "Invalid partial";
      return std::nullopt;
    }
    f.partial = std::make_pair(origin, octets);
    f.name += "<" + std::to_string(origin) + ">";
  }
  return f;
}

std::pair<std::uint64_t, std::uint64_t> clip_partial(const FetchItem& item, std::uint64_t size) {
  const auto origin = item.partial ? std::min(item.partial->first, size) : 0;
  return {origin, item.partial ? std::min(item.partial->second, size - origin) : size - origin};
}

}  // namespace postino::imap
