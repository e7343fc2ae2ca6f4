// Sequence sets; see sequence_set.hpp.
#include "imap/wire/sequence_set.hpp"

#include <algorithm>
#include <charconv>

namespace postino::imap::wire {
namespace {

std::optional<std::uint32_t> number(std::string_view s) {
  if (s == "*") return 0;
  if (s.empty() || s.size() > 10 || s.front() == '0') return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 0xffffffffULL)
    return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

}  // namespace

std::optional<SequenceSet> SequenceSet::parse(std::string_view text, std::size_t max_ranges) {
  SequenceSet set;
  while (true) {
    const auto comma = std::min(text.find(','), text.size());
    const auto item = text.substr(0, comma);
    const auto colon = item.find(':');
    auto first = number(item.substr(0, colon));
    auto last = colon == std::string_view::npos ? first : number(item.substr(colon + 1));
    if (!first || !last) return std::nullopt;
    if (set.ranges_.size() >= max_ranges) return std::nullopt;
    set.ranges_.emplace_back(*first, *last);
    if (comma == text.size()) break;
    text.remove_prefix(comma + 1);
  }
  return set;
}

SequenceSet SequenceSet::of(const std::vector<std::uint32_t>& numbers) {
  SequenceSet set;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    set.ranges_.emplace_back(numbers[i], numbers[j]);
    i = j + 1;
  }
  return set;
}

std::string format_sequence_set(const std::vector<std::uint32_t>& numbers) {
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(numbers[i]);
    if (j > i) out += ':' + std::to_string(numbers[j]);
    i = j + 1;
  }
  return out;
}

bool SequenceSet::contains(std::uint32_t n, std::uint32_t largest) const {
  for (auto [a, b] : ranges_) {
    if (a == 0) a = largest;
    if (b == 0) b = largest;
    if (a > b) std::swap(a, b);  // "4:2" is "2:4" (RFC 3501 §9)
    if (n >= a && n <= b) return true;
  }
  return false;
}

}  // namespace postino::imap::wire
