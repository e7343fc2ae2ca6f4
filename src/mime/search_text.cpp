// See search_text.hpp.
#include "mime/search_text.hpp"

#include "mime/encoded_word.hpp"
#include "mime/transfer.hpp"

namespace postino::mime {

std::string part_text(std::string_view message, const Part& part) {
  if (part.body_offset > message.size()) return {};
  auto text = decode_transfer(message.substr(part.body_offset, part.body_size), part.encoding);
  for (const auto& param : part.parameters) {
    std::string utf8;  // a charset iconv does not know leaves the bytes as they are
    if (param.name == "charset" && to_utf8(text, param.value, utf8)) text = std::move(utf8);
  }
  return text;
}

SearchTextResult search_text(std::string_view message, const Structure& structure,
                             std::size_t max_body_bytes) {
  SearchTextResult out;
  if (structure.parts.empty()) return out;
  out.text.header = decode_encoded_words(message.substr(0, structure.parts[0].header_size));
  for (const auto& p : structure.parts) {
    if (p.type != "text" || !p.children.empty()) continue;
    auto text = part_text(message, p);
    if (out.text.body.size() + text.size() > max_body_bytes) {
      out.is_complete = false;
      break;
    }
    if (!out.text.body.empty()) out.text.body += text_parts_separator;
    out.text.body += text;
  }
  return out;
}

}  // namespace postino::mime
