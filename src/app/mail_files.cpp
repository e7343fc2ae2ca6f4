// See mail_files.hpp.
#include "app/mail_files.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "base/ascii.hpp"
#include "imap/wire/mailbox_name.hpp"
#include "mime/header.hpp"

namespace postino::app {
namespace {

constexpr std::pair<char, std::uint32_t> maildir_letters[] = {{'D', store::flag_draft},
                                                              {'F', store::flag_flagged},
                                                              {'R', store::flag_answered},
                                                              {'S', store::flag_seen},
                                                              {'T', store::flag_deleted}};

void add_keyword(store::Flags& f, std::string k) {
  if (std::find(f.keywords.begin(), f.keywords.end(), k) == f.keywords.end()) {
    f.keywords.push_back(std::move(k));
    std::sort(f.keywords.begin(), f.keywords.end());
  }
}

// Splits text into lines without their line ends.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    pos = end + 1;
  }
  return out;
}

bool is_from_line(std::string_view line) {
  return line.starts_with("From ");
}

// ">From ", ">>From " … (mboxrd quoting).
bool is_quoted_from(std::string_view line) {
  const auto first = line.find_first_not_of('>');
  return first != 0 && first != std::string_view::npos && line.substr(first).starts_with("From ");
}

// "From sender Mon Nov 30 10:00:00 2026" → the time (UTC), if the date reads.
std::optional<store::SystemClock::time_point> from_line_date(std::string_view line) {
  auto rest = line.substr(5);
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string date(rest.substr(space + 1));
  std::tm tm{};
  const char* end = strptime(date.c_str(), "%a %b %d %H:%M:%S %Y", &tm);
  if (!end) return std::nullopt;
  return store::SystemClock::from_time_t(timegm(&tm));
}

}  // namespace

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

std::string to_lf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

namespace {

// The number at the start of `text` (0 when there is none).
std::uint64_t leading_number(std::string_view text) {
  std::uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// (seconds, microseconds) of a Maildir file name "SECONDS.M<usec>P…"; 0 for what is absent.
std::pair<std::uint64_t, std::uint64_t> delivery_time(std::string_view name) {
  std::uint64_t usec = 0;
  if (const auto dot = name.find('.');
      dot != std::string_view::npos && dot + 1 < name.size() && name[dot + 1] == 'M') {
    usec = leading_number(name.substr(dot + 2));
  }
  return {leading_number(name), usec};
}

}  // namespace

bool maildir_delivered_before(std::string_view a, std::string_view b) {
  const auto ta = delivery_time(a), tb = delivery_time(b);
  if (ta != tb) return ta < tb;
  return a < b;
}

store::Flags maildir_flags(std::string_view file_name,
                           const std::map<char, std::string>& keywords) {
  store::Flags f;
  const auto info = file_name.rfind(":2,");
  if (info == std::string_view::npos) return f;
  for (char c : file_name.substr(info + 3)) {
    for (auto [letter, bit] : maildir_letters) {
      if (c == letter) f.system |= bit;
    }
    if (c == 'P') add_keyword(f, "$Forwarded");
    if (c >= 'a' && c <= 'z') {
      if (auto it = keywords.find(c); it != keywords.end()) add_keyword(f, it->second);
    }
  }
  return f;
}

std::string maildir_info(const store::Flags& flags, std::map<std::string, char>& keywords) {
  std::string letters;
  for (auto [letter, bit] : maildir_letters) {
    if (flags.system & bit) letters += letter;
  }
  for (const auto& k : flags.keywords) {
    if (k == "$Forwarded") {
      letters += 'P';
      continue;
    }
    auto it = keywords.find(k);
    if (it == keywords.end()) {
      if (keywords.size() >= 26) continue;  // Maildir has 26 keyword letters
      it = keywords.emplace(k, static_cast<char>('a' + keywords.size())).first;
    }
    letters += it->second;
  }
  std::sort(letters.begin(), letters.end());
  return ":2," + letters;
}

std::map<char, std::string> parse_dovecot_keywords(std::string_view text) {
  std::map<char, std::string> out;
  for (auto line : lines_of(text)) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    int index = 0;
    for (char c : line.substr(0, space)) {
      if (c < '0' || c > '9') {
        index = -1;
        break;
      }
      index = index * 10 + (c - '0');
    }
    if (index >= 0 && index < 26 && space + 1 < line.size()) {
      out[static_cast<char>('a' + index)] = std::string(line.substr(space + 1));
    }
  }
  return out;
}

std::string dovecot_keywords_text(const std::map<std::string, char>& keywords) {
  std::vector<std::pair<char, std::string>> ordered;
  for (const auto& [name, letter] : keywords) ordered.push_back({letter, name});
  std::sort(ordered.begin(), ordered.end());
  std::string out;
  for (const auto& [letter, name] : ordered)
    out += std::to_string(letter - 'a') + " " + name + "\n";
  return out;
}

std::optional<std::string> maildir_folder_name(std::string_view directory) {
  if (directory.size() < 2 || directory[0] != '.' || directory == "..") return std::nullopt;
  std::string name(directory.substr(1));
  std::replace(name.begin(), name.end(), '.', '/');
  auto utf8 = imap::wire::decode_mutf7(name);
  if (!utf8 || utf8->empty()) return std::nullopt;
  if (base::iequals(*utf8, "INBOX")) return std::string("INBOX");
  return utf8;
}

std::string maildir_folder_directory(std::string_view mailbox) {
  auto name = imap::wire::encode_mutf7(mailbox);
  std::replace(name.begin(), name.end(), '/', '.');
  return "." + name;
}

std::vector<MboxMessage> split_mbox(std::string_view data) {
  std::vector<MboxMessage> out;
  std::vector<std::vector<std::string_view>> messages;
  std::vector<std::optional<store::SystemClock::time_point>> dates;
  bool previous_empty = true;
  for (auto line : lines_of(data)) {
    if (previous_empty && is_from_line(line)) {
      messages.emplace_back();
      dates.push_back(from_line_date(line));
    } else if (!messages.empty()) {
      messages.back().push_back(line);
    }
    previous_empty = line.empty();
  }
  for (std::size_t m = 0; m < messages.size(); ++m) {
    auto& lines = messages[m];
    if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the separator
    MboxMessage msg;
    msg.internal_date = dates[m];
    bool in_header = true;
    for (auto line : lines) {
      if (in_header) {
        if (line.empty()) {
          in_header = false;
        } else {
          const auto colon = line.find(':');
          const auto name = base::to_lower(line.substr(0, colon));
          const auto value =
              colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
          if (name == "status" || name == "x-status") {
            for (char c : value) {
              if (name == "status" && c == 'R') msg.flags.system |= store::flag_seen;
              if (name == "x-status") {
                if (c == 'A') msg.flags.system |= store::flag_answered;
                if (c == 'F') msg.flags.system |= store::flag_flagged;
                if (c == 'T') msg.flags.system |= store::flag_draft;
                if (c == 'D') msg.flags.system |= store::flag_deleted;
              }
            }
            continue;
          }
          if (name == "x-keywords") {
            std::string k;
            for (char c : std::string(value) + " ") {
              if (c == ' ' || c == ',' || c == '\t') {
                if (!k.empty()) add_keyword(msg.flags, k);
                k.clear();
              } else {
                k += c;
              }
            }
            continue;
          }
          if (name == "x-uid" || name == "x-imap" || name == "x-imapbase" ||
              name == "content-length") {
            continue;
          }
        }
      } else if (is_quoted_from(line)) {
        line.remove_prefix(1);
      }
      msg.text.append(line);
      msg.text += "\r\n";
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::string mbox_entry(std::string_view message, const store::Flags& flags,
                       store::SystemClock::time_point internal_date) {
  const auto t = store::SystemClock::to_time_t(internal_date);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[40];
  std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
  std::string out = "From MAILER-DAEMON " + std::string(date) + "\n";
  const auto lines = lines_of(message);
  std::size_t i = 0;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    out.append(lines[i]);
    out += '\n';
  }
  out += std::string("Status: ") + ((flags.system & store::flag_seen) ? "RO" : "O") + "\n";
  std::string x;
  if (flags.system & store::flag_answered) x += 'A';
  if (flags.system & store::flag_flagged) x += 'F';
  if (flags.system & store::flag_draft) x += 'T';
  if (flags.system & store::flag_deleted) x += 'D';
  if (!x.empty()) out += "X-Status: " + x + "\n";
  if (!flags.keywords.empty()) {
    out += "X-Keywords:";
    for (const auto& k : flags.keywords) out += " " + k;
    out += "\n";
  }
  for (; i < lines.size(); ++i) {
    if (is_from_line(lines[i]) || is_quoted_from(lines[i])) out += '>';
    out.append(lines[i]);
    out += '\n';
  }
  out += '\n';
  return out;
}

}  // namespace postino::app
