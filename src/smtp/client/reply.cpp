// See reply.hpp.
#include "smtp/client/reply.hpp"

#include <utility>

namespace postino::smtp::client {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 3463: class "." subject "." detail, class matching the reply's first digit.
std::string enhanced_code(std::string_view text, int code) {
  std::size_t i = 0;
  auto digits = [&](std::size_t max) {
    const auto start = i;
    while (i < text.size() && is_digit(text[i]) && i - start < max) ++i;
    return i > start;
  };
  if (text.empty() || text[0] - '0' != code / 100) return {};
  i = 1;
  if (i >= text.size() || text[i++] != '.' || !digits(3)) return {};
  if (i >= text.size() || text[i++] != '.' || !digits(3)) return {};
  if (i < text.size() && text[i] != ' ') return {};
  return std::string(text.substr(0, i));
}

}  // namespace

std::string Reply::summary() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) out += " " + enhanced;
  for (const auto& line : lines) {
    auto text = std::string_view(line);
    if (!enhanced.empty() && text.starts_with(enhanced)) text.remove_prefix(enhanced.size());
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (!text.empty()) out += " " + std::string(text);
  }
  // Never a control character in a log line, a queue row or a bounce.
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

ReplyReader::Step ReplyReader::next(std::string& input) {
  Step step;
  std::size_t pos = 0;
  for (;;) {
    const auto lf = input.find('\n', pos);
    if (lf == std::string::npos) {
      if (input.size() - pos > limits_.max_line_bytes) {
        step.kind = Step::Kind::error;
        step.error = "reply line too long";
        return step;
      }
      // Lines already taken stay in partial_; the rest waits for more bytes.
      input.erase(0, pos);
      return step;
    }
    auto line = std::string_view(input).substr(pos, lf - pos);
    pos = lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line_bytes) {
      step.kind = Step::Kind::error;
      step.error = "reply line too long";
      return step;
    }
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        line[0] < '2' || line[0] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      step.kind = Step::Kind::error;
      step.error = "not an SMTP reply line";
      return step;
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!partial_.lines.empty() && code != partial_.code) {
      step.kind = Step::Kind::error;
      step.error = "reply code changes within a multi-line reply";
      return step;
    }
    if (partial_.lines.size() >= limits_.max_lines) {
      step.kind = Step::Kind::error;
      step.error = "too many lines in one reply";
      return step;
    }
    partial_.code = code;
    const auto text = line.size() > 4 ? line.substr(4) : std::string_view();
    if (partial_.lines.empty()) partial_.enhanced = enhanced_code(text, code);
    partial_.lines.emplace_back(text);
    const bool is_last = line.size() == 3 || line[3] == ' ';
    if (is_last) {
      input.erase(0, pos);
      step.kind = Step::Kind::reply;
      step.reply = std::exchange(partial_, Reply{});
      return step;
    }
  }
}

}  // namespace postino::smtp::client
