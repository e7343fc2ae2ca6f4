// THREAD=REFERENCES and ORDEREDSUBJECT (imap/sort.hpp) over messages made from the input,
// one per line "message-id|references|subject|date": whatever the links (loops, self
// references, duplicates, missing parents), every message appears in the answer exactly
// once and the parentheses balance.
#include <map>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "imap/sort.hpp"

using namespace postino;

namespace {

void check_threads(const std::string& threads, std::size_t count) {
  int depth = 0;
  std::map<std::uint32_t, int> seen;
  for (std::size_t i = 0; i < threads.size();) {
    const char c = threads[i];
    if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ')') {
      FUZZ_CHECK(--depth >= 0);
      ++i;
    } else if (c == ' ') {
      ++i;
    } else {
      FUZZ_CHECK(c >= '0' && c <= '9');
      std::uint32_t n = 0;
      while (i < threads.size() && threads[i] >= '0' && threads[i] <= '9')
        n = n * 10 + static_cast<std::uint32_t>(threads[i++] - '0');
      ++seen[n];
    }
  }
  FUZZ_CHECK(depth == 0);
  FUZZ_CHECK(seen.size() == count);
  for (const auto& [n, times] : seen) FUZZ_CHECK(n >= 1 && n <= count && times == 1);
}

}  // namespace

POSTINO_FUZZ_TARGET(imap_thread) {
  std::vector<imap::sort::Item> items;
  while (!data.empty() && items.size() < 200) {
    const auto nl = data.find('\n');
    const auto line = data.substr(0, nl);
    data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
    std::string_view parts[4];
    auto rest = line;
    for (auto& p : parts) {
      const auto bar = rest.find('|');
      p = rest.substr(0, bar);
      rest.remove_prefix(bar == std::string_view::npos ? rest.size() : bar + 1);
    }
    mime::EnvelopeFields f;
    f.message_id = parts[0];
    f.references = parts[1];
    f.subject = parts[2];
    f.date = parts[3];
    const auto n = static_cast<std::uint32_t>(items.size() + 1);
    items.push_back(imap::sort::make_item(n, n, n * 60, n, f));
  }
  check_threads(imap::sort::thread_references(items), items.size());
  check_threads(imap::sort::thread_ordered_subject(items), items.size());
  auto sorted = items;
  imap::sort::order(sorted, {{imap::sort::Key::subject}, {imap::sort::Key::date, true}});
  FUZZ_CHECK(sorted.size() == items.size());
}
