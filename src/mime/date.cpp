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

}  // namespace

std::optional<std::int64_t> date_days(std::string_view value) {
  // Words, with comments and the separators "," dropped.
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
  static constexpr const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  // day month year, after an optional weekday.
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
    return days_from_civil(year, month, day);
  }
  return std::nullopt;
}

}  // namespace postino::mime
