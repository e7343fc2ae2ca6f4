// Address list parsing; see address.hpp.
#include "mime/address.hpp"

namespace postino::mime {
namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  bool at_end() { return skip(), i_ >= s_.size(); }
  char peek() { return skip(), i_ < s_.size() ? s_[i_] : '\0'; }
  void take() { ++i_; }

  // A run of words (atoms and quoted strings, dots kept) up to one of `stops`.
  // `spaced` joins words with one space (display names); an addr-spec is glued.
  std::string phrase(std::string_view stops, bool spaced = true) {
    std::string out;
    for (;;) {
      skip();
      if (i_ >= s_.size() || stops.find(s_[i_]) != std::string_view::npos) return out;
      if (s_[i_] == '"') {
        if (spaced && !out.empty() && out.back() != ' ' && out.back() != '.') out.push_back(' ');
        ++i_;
        while (i_ < s_.size() && s_[i_] != '"') {
          if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
          if (s_[i_] != '\r' && s_[i_] != '\n') out.push_back(s_[i_]);
          ++i_;
        }
        if (i_ < s_.size()) ++i_;
        continue;
      }
      const auto start = i_;
      while (i_ < s_.size() && !is_special(s_[i_]) && stops.find(s_[i_]) == std::string_view::npos)
        ++i_;
      if (i_ == start) {  // a special we do not stop at: keep it as text
        out.push_back(s_[i_++]);
        continue;
      }
      const auto word = s_.substr(start, i_ - start);
      if (spaced && !out.empty() && out.back() != '.' && word.front() != '.') out.push_back(' ');
      out.append(word);
    }
  }

 private:
  static bool is_special(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '(' || c == ')' ||
           c == '<' || c == '>' || c == '@' || c == ',' || c == ':' || c == ';' || c == '[' ||
           c == ']';
  }
  void skip() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == '(') {  // comments, nested, are not part of any value
        int depth = 0;
        for (; i_ < s_.size(); ++i_) {
          if (s_[i_] == '\\') {
            if (i_ + 1 < s_.size()) ++i_;  // a quoted pair; a last "\\" ends the value
          } else if (s_[i_] == '(')
            ++depth;
          else if (s_[i_] == ')' && --depth == 0) {
            ++i_;
            break;
          }
        }
      } else {
        break;
      }
    }
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

void split_addr_spec(const std::string& spec, Address& a) {
  const auto at = spec.rfind('@');
  if (at == std::string::npos) {
    a.mailbox = spec;
  } else {
    a.mailbox = spec.substr(0, at);
    a.host = spec.substr(at + 1);
  }
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view value) {
  std::vector<Address> out;
  Lexer lx(value);
  bool in_group = false;
  while (!lx.at_end()) {
    const char c = lx.peek();
    if (c == ',') {
      lx.take();
      continue;
    }
    if (c == ';') {
      lx.take();
      if (in_group) out.push_back({"", "", "", "", Address::Kind::group_end});
      in_group = false;
      continue;
    }
    auto words = lx.phrase("<,:;@");
    if (lx.peek() == ':' && !in_group) {  // "Team: a@x, b@y;"
      lx.take();
      out.push_back({"", "", words, "", Address::Kind::group_start});
      in_group = true;
      continue;
    }
    Address a;
    if (lx.peek() == '<') {
      lx.take();
      a.name = words;
      auto inside = lx.phrase(">", false);
      if (lx.peek() == '>') lx.take();
      // "@a,@b:local@host" (RFC 5322 §4.4 obs-route)
      if (!inside.empty() && inside.front() == '@') {
        const auto colon = inside.find(':');
        if (colon != std::string::npos) {
          a.route = inside.substr(0, colon);
          inside = inside.substr(colon + 1);
        }
      }
      split_addr_spec(inside, a);
    } else {
      std::string spec = words;
      if (lx.peek() == '@') {
        lx.take();
        spec += "@" + lx.phrase(",;<", false);
      }
      // A display name written after the address ("a@b Alice") is dropped; an
      // angle-addr following it wins.
      if (lx.peek() == '<') continue;
      if (spec.empty()) {
        lx.take();  // never stall on a stray character
        continue;
      }
      split_addr_spec(spec, a);
    }
    out.push_back(std::move(a));
  }
  if (in_group) out.push_back({"", "", "", "", Address::Kind::group_end});
  return out;
}

}  // namespace postino::mime
