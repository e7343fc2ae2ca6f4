// MAIL/RCPT argument parsing; see envelope.hpp.
#include "smtp/wire/envelope.hpp"
#include "base/ascii.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace postino::smtp::wire {
namespace {

constexpr const char* bad_sender = "501 5.1.7 Bad sender address syntax";
constexpr const char* bad_recipient = "501 5.1.3 Bad recipient address syntax";
constexpr const char* bad_parameters = "501 5.5.4 Syntax error in parameters";

// RFC 5322 atext, and UTF-8 bytes (RFC 6531 §3.3 extends atext with UTF8-non-ascii).
bool is_atext(unsigned char c) {
  if (std::isalnum(c) || c >= 0x80) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
  }
  return true;
}

// Domain = sub-domain *("." sub-domain), with U-labels allowed (RFC 6531); or an
// address literal "[…]" (RFC 5321 §4.1.3) holding no control characters or brackets.
bool is_domain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  if (d.front() == '[') {
    if (d.size() < 3 || d.back() != ']') return false;
    for (unsigned char c : d.substr(1, d.size() - 2)) {
      if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  std::size_t start = 0;
  while (start <= d.size()) {
    auto dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    const auto label = d.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (unsigned char c : label) {
      if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return false;
    }
    start = dot + 1;
  }
  return true;
}

// Parses "<[@route,@route:]local@domain>" or a bare "local@domain" (accepted as Postfix
// does by default). `rest` receives what follows. nullopt for "<>" (null path) with
// `is_null` set, or on error.
std::optional<Mailbox> parse_path(std::string_view s, std::string_view& rest, bool& is_null,
                                  bool& ok, bool allow_postmaster) {
  ok = false;
  is_null = false;
  std::string_view path;
  if (!s.empty() && s.front() == '<') {
    // Find the closing '>' outside a quoted local part.
    bool quoted = false;
    std::size_t i = 1;
    for (; i < s.size(); ++i) {
      if (quoted && s[i] == '\\') {
        ++i;
        continue;
      }
      if (s[i] == '"') quoted = !quoted;
      if (!quoted && s[i] == '>') break;
    }
    if (i >= s.size()) return std::nullopt;
    path = s.substr(1, i - 1);
    rest = s.substr(i + 1);
  } else {
    const auto space = s.find(' ');
    path = s.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : s.substr(space);
  }
  if (path.empty()) {
    is_null = true;
    ok = true;
    return std::nullopt;
  }
  // RFC 5321 §4.1.2 A-d-l: a source route is accepted and ignored (§C).
  if (path.front() == '@') {
    const auto colon = path.find(':');
    if (colon == std::string_view::npos || colon == 1) return std::nullopt;
    path = path.substr(colon + 1);
  }
  Mailbox m;
  std::size_t at;
  if (!path.empty() && path.front() == '"') {
    std::size_t i = 1;
    for (; i < path.size() && path[i] != '"'; ++i) {
      auto c = static_cast<unsigned char>(path[i]);
      if (c == '\\') {
        if (++i >= path.size()) return std::nullopt;
        c = static_cast<unsigned char>(path[i]);
        if (c < 0x20 || c == 0x7f) return std::nullopt;
      } else if (c < 0x20 || c == 0x7f) {
        return std::nullopt;  // no CTL or NUL, even quoted (RELIABILITY S05)
      }
      m.local.push_back(static_cast<char>(c));
    }
    if (i >= path.size()) return std::nullopt;
    at = i + 1;
    if (at >= path.size() || path[at] != '@') {
      if (at == path.size() && allow_postmaster && base::iequals(m.local, "postmaster")) {
        ok = true;
        return m;
      }
      return std::nullopt;
    }
    if (m.local.empty()) return std::nullopt;  // RELIABILITY S05: <""@x>
    m.is_quoted = true;
  } else {
    at = path.rfind('@');
    if (at == std::string_view::npos) {
      if (allow_postmaster && base::iequals(path, "postmaster")) {
        m.local = std::string(path);
        ok = true;
        return m;
      }
      return std::nullopt;
    }
    m.local = std::string(path.substr(0, at));
    if (!is_dot_string(m.local)) return std::nullopt;
  }
  m.domain = std::string(path.substr(at + 1));
  if (!is_domain(m.domain) || m.local.size() > 64) return std::nullopt;
  ok = true;
  return m;
}

struct Param {
  std::string_view keyword;
  std::optional<std::string_view> value;
};

// esmtp-param *(SP esmtp-param): keyword [= value], value = 1*(%d33-60 / %d62-126) or UTF-8.
bool split_params(std::string_view s, std::vector<Param>& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    const auto end = std::min(s.find(' ', i), s.size());
    const auto word = s.substr(i, end - i);
    const auto eq = word.find('=');
    Param p{word.substr(0, eq), std::nullopt};
    if (p.keyword.empty() || !std::isalnum(static_cast<unsigned char>(p.keyword.front())))
      return false;
    for (unsigned char c : p.keyword) {
      if (!std::isalnum(c) && c != '-') return false;
    }
    if (eq != std::string_view::npos) {
      p.value = word.substr(eq + 1);
      if (p.value->empty()) return false;
      for (unsigned char c : *p.value) {
        if (c <= 0x20 || c == '=' || c == 0x7f) return false;
      }
    }
    out.push_back(p);
    i = end;
  }
  return true;
}

std::string unsupported(std::string_view keyword) {
  return "555 5.5.4 Unsupported option: " + std::string(keyword);
}

}  // namespace

std::string Mailbox::str() const {
  if (domain.empty()) return local;
  if (!is_quoted) return local + "@" + domain;
  std::string q = "\"";
  for (char c : local) {
    if (c == '"' || c == '\\') q.push_back('\\');
    q.push_back(c);
  }
  return q + "\"@" + domain;
}

std::string encode_xtext(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out += '+';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::optional<std::string> decode_xtext(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (i + 2 >= text.size()) return std::nullopt;  // "+" needs two hex digits
      auto hex = text.substr(i + 1, 2);
      unsigned v = 0;
      for (char h : hex) {
        if (!std::isxdigit(static_cast<unsigned char>(h)) ||
            std::islower(static_cast<unsigned char>(h))) {
          return std::nullopt;  // RFC 3461 §4: HEXCHAR is upper-case
        }
        v = v * 16 + static_cast<unsigned>(
                         std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : h - 'A' + 10);
      }
      if (v < 0x20 || v == 0x7f) return std::nullopt;  // RELIABILITY S07: no CR, LF, NUL
      out.push_back(static_cast<char>(v));
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return std::nullopt;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::variant<MailFrom, EnvelopeError> parse_mail_from(std::string_view arg,
                                                      const EnvelopeLimits& limits) {
  if (arg.size() < 5 || !base::iequals(arg.substr(0, 5), "FROM:"))
    return EnvelopeError{"501 5.5.4 Syntax: MAIL FROM:<address>"};
  arg.remove_prefix(5);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  std::string_view rest;
  bool is_null = false, ok = false;
  auto sender = parse_path(arg, rest, is_null, ok, false);
  if (!ok) return EnvelopeError{bad_sender};
  if (sender && sender->str().size() > limits.max_address_bytes) return EnvelopeError{bad_sender};
  MailFrom m;
  m.sender = sender;
  std::vector<Param> params;
  if (!split_params(rest, params)) return EnvelopeError{bad_parameters};
  for (const auto& p : params) {
    if (p.value && p.value->size() > limits.max_parameter_bytes) {
      return EnvelopeError{"501 5.5.4 Parameter value too long"};
    }
    if (base::iequals(p.keyword, "SIZE")) {
      // RFC 1870: 1*20DIGIT; larger than any limit is still a number, never a wrap.
      if (!p.value || p.value->size() > 20) return EnvelopeError{bad_parameters};
      std::uint64_t v = 0;
      auto [end, ec] = std::from_chars(p.value->data(), p.value->data() + p.value->size(), v);
      if (ec == std::errc::result_out_of_range) {
        v = UINT64_MAX;
      } else if (ec != std::errc{} || end != p.value->data() + p.value->size()) {
        return EnvelopeError{bad_parameters};
      }
      m.size = v;
    } else if (base::iequals(p.keyword, "BODY")) {
      if (p.value && base::iequals(*p.value, "7BIT"))
        m.body = Body::seven_bit;
      else if (p.value && base::iequals(*p.value, "8BITMIME"))
        m.body = Body::eight_bit_mime;
      else
        return EnvelopeError{"555 5.5.4 Unsupported BODY type"};
    } else if (base::iequals(p.keyword, "SMTPUTF8")) {
      if (p.value) return EnvelopeError{bad_parameters};
      m.smtputf8 = true;
    } else if (base::iequals(p.keyword, "RET")) {
      if (p.value && base::iequals(*p.value, "FULL"))
        m.ret = Ret::full;
      else if (p.value && base::iequals(*p.value, "HDRS"))
        m.ret = Ret::headers;
      else
        return EnvelopeError{bad_parameters};
    } else if (base::iequals(p.keyword, "ENVID")) {
      auto v = p.value ? decode_xtext(*p.value) : std::nullopt;
      if (!v || v->size() > 100) return EnvelopeError{bad_parameters};
      m.envid = *v;
    } else if (base::iequals(p.keyword, "AUTH")) {
      if (!p.value) return EnvelopeError{bad_parameters};
      if (*p.value == "<>") {
        m.auth = "";
      } else {
        auto v = decode_xtext(*p.value);
        if (!v) return EnvelopeError{bad_parameters};
        m.auth = *v;
      }
    } else {
      return EnvelopeError{unsupported(p.keyword)};
    }
  }
  // RFC 6531 §3.4: 8-bit addresses need SMTPUTF8.
  if (m.sender && !m.smtputf8) {
    for (unsigned char c : m.sender->str()) {
      if (c >= 0x80) return EnvelopeError{"553 5.6.7 Non-ASCII address requires SMTPUTF8"};
    }
  }
  return m;
}

std::variant<RcptTo, EnvelopeError> parse_rcpt_to(std::string_view arg,
                                                  const EnvelopeLimits& limits) {
  if (arg.size() < 3 || !base::iequals(arg.substr(0, 3), "TO:"))
    return EnvelopeError{"501 5.5.4 Syntax: RCPT TO:<address>"};
  arg.remove_prefix(3);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  std::string_view rest;
  bool is_null = false, ok = false;
  auto recipient = parse_path(arg, rest, is_null, ok, true);
  if (!ok || is_null || !recipient) return EnvelopeError{bad_recipient};
  if (recipient->str().size() > limits.max_address_bytes) return EnvelopeError{bad_recipient};
  RcptTo r;
  r.recipient = *recipient;
  std::vector<Param> params;
  if (!split_params(rest, params)) return EnvelopeError{bad_parameters};
  for (const auto& p : params) {
    if (p.value && p.value->size() > limits.max_parameter_bytes) {
      return EnvelopeError{"501 5.5.4 Parameter value too long"};
    }
    if (base::iequals(p.keyword, "NOTIFY")) {
      if (!p.value) return EnvelopeError{bad_parameters};
      r.notify.is_given = true;
      std::string_view list = *p.value;
      while (!list.empty()) {
        const auto comma = std::min(list.find(','), list.size());
        const auto item = list.substr(0, comma);
        if (base::iequals(item, "NEVER"))
          r.notify.never = true;
        else if (base::iequals(item, "SUCCESS"))
          r.notify.success = true;
        else if (base::iequals(item, "FAILURE"))
          r.notify.failure = true;
        else if (base::iequals(item, "DELAY"))
          r.notify.delay = true;
        else
          return EnvelopeError{bad_parameters};
        list = comma < list.size() ? list.substr(comma + 1) : std::string_view{};
      }
      // RFC 3461 §4.1: NEVER stands alone.
      if (r.notify.never && (r.notify.success || r.notify.failure || r.notify.delay)) {
        return EnvelopeError{bad_parameters};
      }
    } else if (base::iequals(p.keyword, "ORCPT")) {
      if (!p.value) return EnvelopeError{bad_parameters};
      const auto semi = p.value->find(';');
      if (semi == std::string_view::npos || semi == 0) return EnvelopeError{bad_parameters};
      auto address = decode_xtext(p.value->substr(semi + 1));
      if (!address || address->empty()) return EnvelopeError{bad_parameters};
      r.orcpt_type = std::string(p.value->substr(0, semi));
      r.orcpt_address = *address;
    } else {
      return EnvelopeError{unsupported(p.keyword)};
    }
  }
  return r;
}

}  // namespace postino::smtp::wire
