// Structure codec; see codec.hpp. Format 1: a version byte, then LEB128 varints and
// length-prefixed strings in a fixed field order.
#include "mime/codec.hpp"

#include <cstdint>

namespace postino::mime {
namespace {

constexpr unsigned char format_version = 1;
constexpr std::uint64_t max_items = 1u << 20;

class Writer {
 public:
  void u(std::uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  }
  void s(std::string_view v) {
    u(v.size());
    out.append(v);
  }
  void params(const std::vector<Parameter>& ps) {
    u(ps.size());
    for (const auto& p : ps) {
      s(p.name);
      s(p.value);
      s(p.charset);
      s(p.language);
    }
  }
  std::string out;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<unsigned char>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool s(std::string& v) {
    std::uint64_t n;
    if (!u(n) || n > in_.size() - pos_) return false;
    v.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool count(std::uint64_t& n) { return u(n) && n <= max_items && n <= in_.size() - pos_; }
  bool params(std::vector<Parameter>& ps) {
    std::uint64_t n;
    if (!count(n)) return false;
    ps.resize(n);
    for (auto& p : ps) {
      if (!s(p.name) || !s(p.value) || !s(p.charset) || !s(p.language)) return false;
    }
    return true;
  }
  bool byte(unsigned char& b) {
    if (pos_ >= in_.size()) return false;
    b = static_cast<unsigned char>(in_[pos_++]);
    return true;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode(const Structure& st) {
  Writer w;
  w.out.push_back(static_cast<char>(format_version));
  w.u(st.is_truncated ? 1 : 0);
  w.u(st.parts.size());
  for (const auto& p : st.parts) {
    w.u(p.header_offset);
    w.u(p.header_size);
    w.u(p.body_offset);
    w.u(p.body_size);
    w.u(p.body_lines);
    w.s(p.type);
    w.s(p.subtype);
    w.params(p.parameters);
    w.s(p.id);
    w.s(p.description);
    w.s(p.encoding);
    w.s(p.md5);
    w.s(p.disposition);
    w.params(p.disposition_parameters);
    w.u(p.languages.size());
    for (const auto& l : p.languages) w.s(l);
    w.s(p.location);
    w.u(static_cast<std::uint64_t>(p.parent + 1));  // -1 stored as 0
    w.u(p.children.size());
    for (auto c : p.children) w.u(static_cast<std::uint64_t>(c));
  }
  return std::move(w.out);
}

std::optional<Structure> decode(std::string_view bytes) {
  Reader r(bytes);
  unsigned char version;
  if (!r.byte(version) || version != format_version) return std::nullopt;
  Structure st;
  std::uint64_t truncated, n;
  if (!r.u(truncated) || truncated > 1 || !r.count(n)) return std::nullopt;
  st.is_truncated = truncated == 1;
  st.parts.resize(n);
  for (auto& p : st.parts) {
    std::uint64_t parent, nlang, nchildren;
    if (!r.u(p.header_offset) || !r.u(p.header_size) || !r.u(p.body_offset) || !r.u(p.body_size) ||
        !r.u(p.body_lines) || !r.s(p.type) || !r.s(p.subtype) || !r.params(p.parameters) ||
        !r.s(p.id) || !r.s(p.description) || !r.s(p.encoding) || !r.s(p.md5) ||
        !r.s(p.disposition) || !r.params(p.disposition_parameters) || !r.count(nlang)) {
      return std::nullopt;
    }
    p.languages.resize(nlang);
    for (auto& l : p.languages) {
      if (!r.s(l)) return std::nullopt;
    }
    if (!r.s(p.location) || !r.u(parent) || parent > n || !r.count(nchildren)) return std::nullopt;
    p.parent = static_cast<std::int32_t>(parent) - 1;
    p.children.resize(nchildren);
    for (auto& c : p.children) {
      std::uint64_t v;
      if (!r.u(v) || v >= n) return std::nullopt;
      c = static_cast<std::int32_t>(v);
    }
  }
  if (!r.at_end()) return std::nullopt;
  return st;
}

}  // namespace postino::mime
