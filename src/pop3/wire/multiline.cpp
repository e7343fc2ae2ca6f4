// Dot-stuffing; see multiline.hpp.
#include "pop3/wire/multiline.hpp"

namespace postino::pop3::wire {

std::string dot_stuff(std::string_view message, std::optional<std::uint64_t> top_lines) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  bool in_body = false;
  std::uint64_t body_lines = 0;
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (in_body && top_lines && body_lines >= *top_lines) break;
    auto lf = message.find('\n', pos);
    const bool has_lf = lf != std::string_view::npos;
    std::size_t end = has_lf ? lf : message.size();
    std::string_view line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '.') out.push_back('.');
    out.append(line);
    out += "\r\n";  // a last line without a break gets one: the terminator must start a line
    if (in_body) ++body_lines;
    if (!in_body && line.empty()) in_body = true;  // the blank line after the header
    pos = has_lf ? lf + 1 : message.size();
  }
  out += ".\r\n";
  return out;
}

}  // namespace postino::pop3::wire
