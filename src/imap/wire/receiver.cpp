// The IMAP command receiver; see receiver.hpp. Lines are collected (literals kept apart)
// until a line does not end in a literal announcement; then the whole command is
// tokenised at once.
#include "imap/wire/receiver.hpp"

#include <charconv>

#include "base/ascii.hpp"

namespace postino::imap::wire {
bool is_atom_char(unsigned char c) {
  if (c <= 0x1f || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case ' ':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

namespace {

struct ParseError {
  std::string text;
};

class Tokenizer {
 public:
  Tokenizer(std::string_view s, const std::vector<std::string>& literals,
            const ReceiverLimits& limits)
      : s_(s), literals_(literals), limits_(limits) {}

  std::string word() {
    const auto start = i_;
    while (i_ < s_.size() && s_[i_] != ' ') ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  bool at_end() const { return i_ >= s_.size(); }
  void skip_space() {
    if (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }

  // Tokens up to the end (depth 0) or the matching ")".
  std::vector<Token> tokens(std::size_t depth) {
    std::vector<Token> out;
    for (;;) {
      while (i_ < s_.size() && s_[i_] == ' ') ++i_;
      if (i_ >= s_.size()) {
        if (depth > 0) throw ParseError{"Missing )"};
        return out;
      }
      if (++count_ > limits_.max_tokens) throw ParseError{"Too many arguments"};
      const char c = s_[i_];
      if (c == ')') {
        if (depth == 0) throw ParseError{"Unexpected )"};
        ++i_;
        return out;
      }
      if (c == '(') {
        if (depth + 1 > limits_.max_depth) throw ParseError{"Lists nested too deep"};
        ++i_;
        Token list;
        list.type = Token::Type::list;
        list.children = tokens(depth + 1);
        out.push_back(std::move(list));
      } else if (c == '"') {
        out.push_back(quoted());
      } else if (c == '{') {
        out.push_back(literal());
      } else if (c == '~' && i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
        ++i_;  // literal8 (RFC 3516 §4.1)
        out.push_back(literal());
        out.back().is_literal8 = true;
      } else {
        out.push_back(atom());
      }
    }
  }

 private:
  Token quoted() {
    Token t;
    t.type = Token::Type::quoted;
    ++i_;
    for (;;) {
      if (i_ >= s_.size()) throw ParseError{"Missing closing quote"};
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return t;
      if (c == '\\') {
        // RFC 3501 §9 quoted-specials: only \" and \\ may be escaped.
        if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\\'))
          throw ParseError{"Invalid escape in quoted string"};
        t.value.push_back(s_[i_++]);
        continue;
      }
      // TEXT-CHAR: no NUL, CR or LF (RELIABILITY L07, CVE-2019-11500).
      if (c == 0 || c == '\r' || c == '\n') throw ParseError{"Invalid character in quoted string"};
      t.value.push_back(static_cast<char>(c));
    }
  }

  Token literal() {
    const auto close = s_.find('}', i_);
    if (close == std::string_view::npos) throw ParseError{"Invalid literal"};
    if (next_literal_ >= literals_.size()) throw ParseError{"Invalid literal"};
    Token t;
    t.type = Token::Type::literal;
    t.value = literals_[next_literal_++];
    i_ = close + 1;
    return t;
  }

  Token atom() {
    Token t;
    const auto start = i_;
    int brackets = 0;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (brackets > 0) {
        // Inside a section spec (BODY[HEADER.FIELDS (From To)]) spaces and lists belong
        // to the atom.
        if (c < 0x20 || c >= 0x7f) throw ParseError{"Invalid characters"};
        if (c == '[') ++brackets;
        if (c == ']') --brackets;
        ++i_;
        continue;
      }
      if (c == '[') {
        ++brackets;
        ++i_;
        continue;
      }
      // Flags (\Seen), sequence sets (1:*), LIST patterns (%, *) and "]" are atoms here;
      // the command parsers check what each argument may be.
      if (c == '\\' || c == '*' || c == '%' || c == ']' || is_atom_char(c)) {
        ++i_;
        continue;
      }
      if (c == ' ' || c == '(' || c == ')') break;
      throw ParseError{"Invalid characters"};
    }
    if (brackets != 0) throw ParseError{"Missing ]"};
    t.value = std::string(s_.substr(start, i_ - start));
    if (t.value.empty()) throw ParseError{"Invalid characters"};
    return t;
  }

  std::string_view s_;
  const std::vector<std::string>& literals_;
  const ReceiverLimits& limits_;
  std::size_t i_ = 0;
  std::size_t count_ = 0;
  std::size_t next_literal_ = 0;
};

// "{123}" or "{123+}" at the end of `line`: the size and whether it is non-synchronising.
bool literal_announcement(std::string_view line, std::uint64_t& size, bool& is_nonsync,
                          bool& too_big) {
  if (line.empty() || line.back() != '}') return false;
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return false;
  auto digits = line.substr(open + 1, line.size() - open - 2);
  is_nonsync = !digits.empty() && digits.back() == '+';
  if (is_nonsync) digits.remove_suffix(1);
  if (digits.empty()) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  too_big = false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
  if (ec == std::errc::result_out_of_range) {
    too_big = true;  // {18446744073709551616}: refused, never wrapped (RELIABILITY L06)
    size = UINT64_MAX;
  } else if (ec != std::errc{}) {
    return false;
  }
  return true;
}

std::string tag_of(std::string_view text) {
  const auto tag = text.substr(0, text.find(' '));
  return is_tag(tag) ? std::string(tag) : "*";
}

}  // namespace

bool is_tag(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (c == '+' || !(is_atom_char(c) || c == ']')) return false;
  }
  return true;
}

void Receiver::set_limits(ReceiverLimits limits) {
  limits_ = limits;
  splitter_.set_max_line_bytes(limits.max_line_bytes);
}

void Receiver::reset() {
  text_.clear();
  literals_.clear();
  literal_remaining_ = 0;
  in_literal_ = false;
}

Receiver::Step Receiver::next(std::string_view input) {
  Step step;
  if (in_literal_) {
    const auto take =
        static_cast<std::size_t>(std::min<std::uint64_t>(literal_remaining_, input.size()));
    literals_.back().append(input.substr(0, take));
    literal_remaining_ -= take;
    in_literal_ = literal_remaining_ > 0;
    step.consumed = take;
    return step;
  }
  const auto ls = splitter_.next(input);
  step.consumed = ls.consumed;
  if (ls.kind == base::LineStep::Kind::need_more) return step;
  if (ls.kind == base::LineStep::Kind::too_long ||
      text_.size() + ls.line.size() > limits_.max_line_bytes) {
    step.kind = Step::Kind::error;
    step.tag = tag_of(text_.empty() ? ls.line : std::string_view(text_));
    step.text = "BAD Command line too long";
    reset();
    return step;
  }
  std::uint64_t size = 0;
  bool is_nonsync = false, too_big = false;
  if (literal_announcement(ls.line, size, is_nonsync, too_big)) {
    text_.append(ls.line);
    if (too_big || size > limits_.max_literal_bytes) {
      step.tag = tag_of(text_);
      reset();
      if (is_nonsync) {
        // The literal's bytes are on their way and cannot be told apart from commands.
        step.kind = Step::Kind::fatal;
        step.text = "[TOOBIG] Literal too big";
      } else {
        // RFC 7888 §4 / RFC 3501 §7.5: refused before the continuation, nothing sent yet.
        step.kind = Step::Kind::error;
        step.text = "NO [TOOBIG] Literal too big";
      }
      return step;
    }
    literals_.emplace_back();  // grows as bytes arrive: nothing is allocated up front
    literal_remaining_ = size;
    in_literal_ = size > 0;
    if (!is_nonsync) step.kind = Step::Kind::continuation;
    return step;
  }
  text_.append(ls.line);
  auto result = finish_command();
  result.consumed = step.consumed;
  return result;
}

Receiver::Step Receiver::finish_command() {
  Step step;
  Tokenizer t(text_, literals_, limits_);
  const auto tag = t.word();
  if (!is_tag(tag)) {
    step.kind = Step::Kind::error;
    step.tag = "*";
    step.text = tag.empty() ? "BAD Missing tag" : "BAD Invalid tag";
    reset();
    return step;
  }
  step.tag = tag;
  t.skip_space();
  const auto name = t.word();
  bool name_ok = !name.empty();
  for (unsigned char c : name) name_ok = name_ok && is_atom_char(c);
  if (!name_ok) {
    step.kind = Step::Kind::error;
    step.text = name.empty() ? "BAD Missing command" : "BAD Invalid command name";
    reset();
    return step;
  }
  try {
    step.command.arguments = t.tokens(0);
  } catch (const ParseError& e) {
    step.kind = Step::Kind::error;
    step.text = "BAD " + e.text;
    reset();
    return step;
  }
  step.kind = Step::Kind::command;
  step.command.tag = tag;
  step.command.name = base::to_upper(name);
  reset();
  return step;
}

}  // namespace postino::imap::wire
