// Transfer-encoding decoding; see transfer.hpp. Written by hand: a few lines, and it must
// never reject what a mail client would still show.
#include "mime/transfer.hpp"

#include <cstdint>

#include "base/ascii.hpp"

namespace postino::mime {
namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;  // padding ends the data
    const int v = base64_value(c);
    if (v < 0) continue;  // line breaks and stray characters
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 < in.size() && (in[i + 1] == '\r' || in[i + 1] == '\n')) {  // soft line break
      i += (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') ? 2 : 1;
      continue;
    }
    if (const int byte = i + 2 < in.size() ? base::hex_byte(in[i + 1], in[i + 2]) : -1; byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
      continue;
    }
    out.push_back('=');  // broken escape: kept as written
  }
  return out;
}

}  // namespace

std::string decode_transfer(std::string_view body, std::string_view encoding) {
  if (base::iequals(encoding, "base64")) return decode_base64(body);
  if (base::iequals(encoding, "quoted-printable")) return decode_quoted_printable(body);
  return std::string(body);
}

}  // namespace postino::mime
