// Date parsing; see date.hpp.
#include "mime/date.hpp"

#include <charconv>
#include <string>
#include <vector>

#include "base/ascii.hpp"

namespace postino::mime {
namespace {

// Days from the civil date (Howard Hinnant's algorithm), valid for any Gregorian year.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The words of a date-time, with comments and the separators "," dropped.
std::vector<std::string_view> words_of(std::string_view value) {
  std::vector<std::string_view> words;
  int depth = 0;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    const char c = i < value.size() ? value[i] : ' ';
    const bool separator = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
                           c == '(' || c == ')' || depth > 0;
    if (separator && start != std::string_view::npos) {
      words.push_back(value.substr(start, i - start));
      start = std::string_view::npos;
    }
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) --depth;
    if (!separator && start == std::string_view::npos) start = i;
  }
  return words;
}

struct CivilDate {
  std::int64_t days;  // since 1970-01-01
  std::size_t after;  // index of the word after the year
};

// day month year, after an optional weekday.
std::optional<CivilDate> find_date(const std::vector<std::string_view>& words) {
  static constexpr const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  for (std::size_t i = 0; i + 2 < words.size(); ++i) {
    unsigned day = 0;
    auto [e1, ec1] = std::from_chars(words[i].data(), words[i].data() + words[i].size(), day);
    if (ec1 != std::errc{} || e1 != words[i].data() + words[i].size() || day < 1 || day > 31) {
      continue;
    }
    unsigned month = 0;
    for (unsigned m = 0; m < 12; ++m) {
      if (base::iequals(words[i + 1].substr(0, 3), months[m]) && words[i + 1].size() >= 3) {
        month = m + 1;
      }
    }
    if (month == 0) continue;
    const auto y = words[i + 2];
    std::int64_t year = 0;
    auto [e3, ec3] = std::from_chars(y.data(), y.data() + y.size(), year);
    if (ec3 != std::errc{} || e3 != y.data() + y.size() || year < 0 || year > 9999) continue;
    // RFC 5322 §4.3: two digits are 1950–2049, three digits add 1900.
    if (y.size() == 2)
      year += year < 50 ? 2000 : 1900;
    else if (y.size() == 3)
      year += 1900;
    return CivilDate{days_from_civil(year, month, day), i + 3};
  }
  return std::nullopt;
}

// "hh:mm[:ss]" as seconds; nullopt when malformed.
std::optional<std::int64_t> time_of_day(std::string_view w) {
  std::int64_t total = 0;
  int parts = 0;
  while (!w.empty()) {
    const auto colon = std::min(w.find(':'), w.size());
    unsigned v = 0;
    auto [end, ec] = std::from_chars(w.data(), w.data() + colon, v);
    if (ec != std::errc{} || end != w.data() + colon || colon == 0 || colon > 2 || v > 60) {
      return std::nullopt;
    }
    total = total * 60 + v;
    ++parts;
    w.remove_prefix(std::min(colon + 1, w.size()));
  }
  if (parts == 2) total *= 60;
  if (parts < 2 || parts > 3) return std::nullopt;
  return total;
}

// The zone's offset east of UTC in seconds: "+hhmm"/"-hhmm" or an obsolete name.
std::int64_t zone_offset(std::string_view w) {
  if (w.size() == 5 && (w[0] == '+' || w[0] == '-')) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(w.data() + 1, w.data() + 5, v);
    if (ec != std::errc{} || end != w.data() + 5 || v % 100 > 59) return 0;
    const std::int64_t s = (v / 100) * 3600 + (v % 100) * 60;
    return w[0] == '-' ? -s : s;
  }
  static constexpr std::pair<const char*, int> names[] = {{"EST", -5}, {"EDT", -4}, {"CST", -6},
                                                          {"CDT", -5}, {"MST", -7}, {"MDT", -6},
                                                          {"PST", -8}, {"PDT", -7}};
  for (const auto& [name, hours] : names) {
    if (base::iequals(w, name)) return hours * 3600;
  }
  return 0;  // UT, GMT, military zones and anything unknown (RFC 5322 §4.3: as -0000)
}

}  // namespace

std::optional<std::int64_t> date_time(std::string_view value) {
  const auto words = words_of(value);
  const auto date = find_date(words);
  if (!date) return std::nullopt;
  std::int64_t seconds = date->days * 86400;
  if (date->after < words.size()) {
    if (const auto t = time_of_day(words[date->after])) {
      seconds += *t;
      if (date->after + 1 < words.size()) seconds -= zone_offset(words[date->after + 1]);
    }
  }
  return seconds;
}

std::optional<std::int64_t> date_days(std::string_view value) {
  const auto date = find_date(words_of(value));
  if (!date) return std::nullopt;
  return date->days;
}

}  // namespace postino::mime
