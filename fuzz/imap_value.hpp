// A client's reading of an IMAP response value (RFC 3501 §4 and §9: NIL, numbers, quoted
// strings, literals, parenthesized lists), written apart from the server's formatters so
// that a property can say "what we wrote parses back to what we meant". Fuzz-side only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postino::fuzz {

struct Value {
  enum class Kind { nil, number, string, list } kind = Kind::nil;
  std::uint64_t number = 0;
  std::string text;
  std::vector<Value> items;

  bool is_nil() const { return kind == Kind::nil; }
  bool is_list() const { return kind == Kind::list; }
  bool is_string() const { return kind == Kind::string; }
  // NIL reads as "" where the grammar says nstring.
  std::string nstring() const { return kind == Kind::string ? text : std::string(); }
};

class ValueReader {
 public:
  explicit ValueReader(std::string_view in) : in_(in) {}

  // One value, then the end of the input; nullopt when the bytes are not one value.
  std::optional<Value> whole() {
    auto v = value(0);
    if (!v || at_ != in_.size()) return std::nullopt;
    return v;
  }

 private:
  std::optional<Value> value(int depth) {
    if (depth > 400 || at_ >= in_.size()) return std::nullopt;
    const char c = in_[at_];
    Value v;
    if (c == '(') {
      ++at_;
      v.kind = Value::Kind::list;
      while (at_ < in_.size() && in_[at_] != ')') {
        if (!v.items.empty()) {
          // One space between items; none between the bodies of a multipart ("1*body").
          if (in_[at_] == ' ') {
            ++at_;
          } else if (!(in_[at_] == '(' && v.items.back().is_list())) {
            return std::nullopt;
          }
        }
        auto item = value(depth + 1);
        if (!item) return std::nullopt;
        v.items.push_back(std::move(*item));
      }
      if (at_ >= in_.size()) return std::nullopt;
      ++at_;
      return v;
    }
    if (c == '"') {
      ++at_;
      v.kind = Value::Kind::string;
      for (;;) {
        if (at_ >= in_.size()) return std::nullopt;
        char d = in_[at_++];
        if (d == '"') return v;
        if (d == '\r' || d == '\n' || d == '\0' || static_cast<unsigned char>(d) >= 0x80) {
          return std::nullopt;  // not a QUOTED-CHAR
        }
        if (d == '\\') {
          if (at_ >= in_.size() || (in_[at_] != '"' && in_[at_] != '\\')) return std::nullopt;
          d = in_[at_++];
        }
        v.text += d;
      }
    }
    if (c == '{') {
      const auto close = in_.find('}', at_);
      if (close == std::string_view::npos || close == at_ + 1) return std::nullopt;
      std::uint64_t n = 0;
      for (auto i = at_ + 1; i < close; ++i) {
        if (in_[i] < '0' || in_[i] > '9' || n > (1ull << 40)) return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(in_[i] - '0');
      }
      if (in_.substr(close + 1, 2) != "\r\n" || in_.size() - (close + 3) < n) return std::nullopt;
      v.kind = Value::Kind::string;
      v.text = std::string(in_.substr(close + 3, n));
      at_ = close + 3 + n;
      return v;
    }
    if (in_.substr(at_, 3) == "NIL") {
      at_ += 3;
      return v;
    }
    if (c >= '0' && c <= '9') {
      v.kind = Value::Kind::number;
      while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') {
        if (v.number > (UINT64_MAX - 9) / 10) return std::nullopt;
        v.number = v.number * 10 + static_cast<std::uint64_t>(in_[at_++] - '0');
      }
      return v;
    }
    return std::nullopt;
  }

  std::string_view in_;
  std::size_t at_ = 0;
};

}  // namespace postino::fuzz
