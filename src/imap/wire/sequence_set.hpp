// Sequence sets (RFC 3501 §9 sequence-set): "1:3,5,7:*" for message sequence numbers or
// UIDs. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postino::imap::wire {

class SequenceSet {
 public:
  // nullopt for anything malformed: 0, numbers over 2^32-1, empty ranges, more than
  // `max_ranges` ranges (RELIABILITY L07).
  static std::optional<SequenceSet> parse(std::string_view text, std::size_t max_ranges = 10000);
  // The set of exactly these numbers (ascending, none 0), which may be empty: a saved
  // search result (RFC 5182 "$").
  static SequenceSet of(const std::vector<std::uint32_t>& numbers);
  // True when `n` is in the set, "*" standing for `largest` (the last sequence number or
  // the highest UID in the mailbox). A set without "*" is looked up by binary search, so
  // FETCH of a large saved result ("$") over a large mailbox stays O(n log r).
  bool contains(std::uint32_t n, std::uint32_t largest) const;

 private:
  // Sorts and merges the ranges when none is "*" (their meaning then needs no `largest`).
  void normalize();

  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges_;  // 0 is "*"
  bool sorted_ = false;  // ranges_ ascending and disjoint, no "*"
};

// The shortest sequence-set for these numbers in their order, runs of consecutive numbers
// as ranges: {1,2,3,7} is "1:3,7" (COPYUID, APPENDUID, ESEARCH).
std::string format_sequence_set(const std::vector<std::uint32_t>& numbers);

}  // namespace postino::imap::wire
