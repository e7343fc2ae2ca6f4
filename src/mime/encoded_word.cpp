// Encoded-word decoding; see encoded_word.hpp. Charset conversion is glibc's iconv(3).
#include "mime/encoded_word.hpp"

#include <iconv.h>

#include <cerrno>

#include <optional>

#include "base/ascii.hpp"
#include "mime/transfer.hpp"

namespace postino::mime {
namespace {

// One encoded word at the start of `s`: its decoded text and length, or nullopt.
std::optional<std::pair<std::string, std::size_t>> encoded_word(std::string_view s) {
  if (!s.starts_with("=?")) return std::nullopt;
  const auto q1 = s.find('?', 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
  const auto end = s.find("?=", q1 + 3);
  if (end == std::string_view::npos) return std::nullopt;
  auto charset = s.substr(2, q1 - 2);
  if (const auto star = charset.find('*'); star != std::string_view::npos) {
    charset = charset.substr(0, star);  // RFC 2231 §5 language
  }
  const char encoding = s[q1 + 1];
  const auto text = s.substr(q1 + 3, end - q1 - 3);
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
  std::string bytes;
  if (encoding == 'B' || encoding == 'b') {
    bytes = decode_transfer(text, "base64");
  } else if (encoding == 'Q' || encoding == 'q') {
    std::string q(text);
    for (auto& c : q) {
      if (c == '_') c = ' ';
    }
    bytes = decode_transfer(q, "quoted-printable");
  } else {
    return std::nullopt;
  }
  std::string out;
  if (!to_utf8(bytes, charset, out)) return std::nullopt;
  return std::make_pair(std::move(out), end + 2);
}

}  // namespace

bool to_utf8(std::string_view bytes, std::string_view charset, std::string& out) {
  if (base::iequals(charset, "utf-8") || base::iequals(charset, "us-ascii")) {
    out.assign(bytes);
    return true;
  }
  const std::string name(charset);
  const iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out.clear();
  std::string in(bytes);
  char* src = in.data();
  std::size_t left = in.size();
  char buffer[1024];
  bool ok = true;
  while (left > 0) {
    char* dst = buffer;
    std::size_t room = sizeof buffer;
    const auto r = iconv(cd, &src, &left, &dst, &room);
    out.append(buffer, static_cast<std::size_t>(dst - buffer));
    if (r == static_cast<std::size_t>(-1) && errno != E2BIG) {
      ok = false;
      break;
    }
  }
  iconv_close(cd);
  return ok;
}

std::string decode_encoded_words(std::string_view value) {
  std::string out;
  std::size_t pending_space_at = std::string::npos;  // white space after an encoded word
  bool last_was_word = false;
  for (std::size_t i = 0; i < value.size();) {
    if (auto word = encoded_word(value.substr(i))) {
      if (last_was_word && pending_space_at != std::string::npos) out.resize(pending_space_at);
      out += word->first;
      i += word->second;
      last_was_word = true;
      pending_space_at = std::string::npos;
      continue;
    }
    const char c = value[i];
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space && last_was_word && pending_space_at == std::string::npos) {
      pending_space_at = out.size();
    }
    if (!space) last_was_word = false;
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace postino::mime
