// POP3 command line parsing; see command.hpp.
#include "pop3/wire/command.hpp"

#include <cctype>

namespace postino::pop3::wire {

bool parse_command(std::string_view line, Command& out) {
  for (unsigned char c : line) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  out.keyword.clear();
  out.arguments.clear();
  std::size_t pos = 0;
  bool first = true;
  while (pos < line.size()) {
    const auto end = std::min(line.find(' ', pos), line.size());
    const auto word = line.substr(pos, end - pos);
    if (first) {
      if (word.size() < 3 || word.size() > 4) return false;
      for (unsigned char c : word) {
        if (!std::isalpha(c)) return false;
        out.keyword.push_back(static_cast<char>(std::toupper(c)));
      }
      first = false;
    } else if (!word.empty()) {
      out.arguments.push_back(word);
    }
    pos = end + 1;
  }
  return !first;
}

}  // namespace postino::pop3::wire
