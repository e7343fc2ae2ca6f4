// Sequence sets; see sequence_set.hpp.
#include "imap/wire/sequence_set.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

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
  set.normalize();
  return set;
}

void SequenceSet::normalize() {
  for (auto& [a, b] : ranges_) {
    if (a == 0 || b == 0) return;  // "*": its place depends on the mailbox
    if (a > b) std::swap(a, b);    // "4:2" is "2:4" (RFC 3501 §9)
  }
  std::sort(ranges_.begin(), ranges_.end());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> merged;
  for (const auto& r : ranges_) {
    if (!merged.empty() && r.first <= merged.back().second + std::uint64_t{1}) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
  sorted_ = true;
}

SequenceSet SequenceSet::of(const std::vector<std::uint32_t>& numbers) {
  SequenceSet set;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    set.ranges_.emplace_back(numbers[i], numbers[j]);
    i = j + 1;
  }
  set.normalize();
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
  if (sorted_) {
    // The last range starting at or before n.
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), n,
                               [](std::uint32_t v, const auto& r) { return v < r.first; });
    return it != ranges_.begin() && n <= std::prev(it)->second;
  }
  for (auto [a, b] : ranges_) {
    if (a == 0) a = largest;
    if (b == 0) b = largest;
    if (a > b) std::swap(a, b);  // "4:2" is "2:4" (RFC 3501 §9)
    if (n >= a && n <= b) return true;
  }
  return false;
}

}  // namespace postino::imap::wire
