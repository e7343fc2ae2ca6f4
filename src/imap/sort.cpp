// SORT and THREAD (RFC 5256); see sort.hpp. Written here because they are IMAP's own
// algorithms over the store's envelope fields: no library implements RFC 5256's base
// subject or its variant of Zawinski's threading.
#include "imap/sort.hpp"

#include <algorithm>
#include <functional>
#include <tuple>
#include <unordered_map>

#include "base/ascii.hpp"
#include "base/unicode.hpp"
#include "mime/address.hpp"
#include "mime/date.hpp"
#include "mime/encoded_word.hpp"

namespace postino::imap::sort {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

// subj-blob = "[" *BLOBCHAR "]" *WSP at `at`; the length matched, 0 for none.
std::size_t blob_at(std::string_view s, std::size_t at) {
  if (at >= s.size() || s[at] != '[') return 0;
  const auto close = s.find_first_of("[]", at + 1);
  if (close == std::string_view::npos || s[close] != ']') return 0;
  auto end = close + 1;
  while (end < s.size() && is_wsp(s[end])) ++end;
  return end - at;
}

// subj-leader's first form, *subj-blob subj-refwd, with
// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; the length matched, 0 for none.
std::size_t refwd_leader(std::string_view s) {
  std::size_t at = 0;
  while (const auto n = blob_at(s, at)) at += n;
  if (s.substr(at, 2) == "re") {
    at += 2;
  } else if (s.substr(at, 2) == "fw") {
    at += s.substr(at, 3) == "fwd" ? 3 : 2;
  } else {
    return 0;
  }
  while (at < s.size() && is_wsp(s[at])) ++at;
  at += blob_at(s, at);
  if (at >= s.size() || s[at] != ':') return 0;
  return at + 1;
}

}  // namespace

BaseSubject base_subject(std::string_view subject) {
  // (1) Decoded, folded for comparison, every run of white space one space.
  const auto decoded = base::utf8_lower(mime::decode_encoded_words(subject));
  std::string s;
  for (char c : decoded) {
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    if (c == ' ' && !s.empty() && s.back() == ' ') continue;
    s += c;
  }
  BaseSubject out;
  while (true) {
    // (2) Trailers: "(fwd)" and white space.
    while (true) {
      if (!s.empty() && s.back() == ' ') {
        s.pop_back();
      } else if (s.ends_with("(fwd)")) {
        s.resize(s.size() - 5);
        out.is_reply_or_forward = true;
      } else {
        break;
      }
    }
    // (3)-(5) Leaders ("re:", "fwd:", "[list] re:", white space), then a blob that leaves
    // something after it, until neither is left.
    for (bool changed = true; changed;) {
      changed = false;
      while (true) {
        if (!s.empty() && s.front() == ' ') {
          s.erase(0, 1);
        } else if (const auto n = refwd_leader(s)) {
          s.erase(0, n);
          out.is_reply_or_forward = true;
        } else {
          break;
        }
        changed = true;
      }
      if (const auto n = blob_at(s, 0); n > 0 && n < s.size()) {
        s.erase(0, n);
        changed = true;
      }
    }
    // (6) "[fwd: …]" around the whole: unwrap and start again from (2).
    if (s.starts_with("[fwd:") && s.ends_with("]")) {
      s = s.substr(5, s.size() - 6);
      out.is_reply_or_forward = true;
      continue;
    }
    break;
  }
  out.text = std::move(s);
  return out;
}

std::vector<std::string> message_ids(std::string_view value) {
  std::vector<std::string> ids;
  std::size_t at = 0;
  while ((at = value.find('<', at)) != std::string_view::npos) {
    const auto end = value.find('>', at + 1);
    if (end == std::string_view::npos) break;
    std::string id;
    for (const char c : value.substr(at, end - at + 1)) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') id += c;
    }
    if (id.size() > 2) ids.push_back(std::move(id));
    at = end + 1;
  }
  return ids;
}

namespace {

// The addr-mailbox of the first address as ENVELOPE lists it: a group's start counts, with
// the group's name (as Dovecot sorts "undisclosed-recipients:;").
std::string first_mailbox(std::string_view value) {
  for (const auto& a : mime::parse_address_list(value)) {
    if (a.kind != mime::Address::Kind::group_end) return base::to_lower(a.mailbox);
  }
  return {};
}

}  // namespace

Item make_item(std::uint32_t number, std::uint32_t sequence, std::int64_t arrival,
               std::uint64_t size, const mime::EnvelopeFields& fields) {
  Item item;
  item.number = number;
  item.sequence = sequence;
  item.arrival = arrival;
  item.sent = mime::date_time(fields.date).value_or(arrival);
  item.size = size;
  item.subject = base_subject(fields.subject);
  item.from = first_mailbox(fields.from);
  item.to = first_mailbox(fields.to);
  item.cc = first_mailbox(fields.cc);
  auto ids = message_ids(fields.message_id);
  if (!ids.empty()) item.message_id = std::move(ids.front());
  item.references = message_ids(fields.references);
  if (item.references.empty()) {
    auto parents = message_ids(fields.in_reply_to);
    if (!parents.empty()) item.references.push_back(std::move(parents.front()));
  }
  return item;
}

void order(std::vector<Item>& items, const std::vector<Criterion>& criteria) {
  auto compare = [&](const Item& a, const Item& b) {
    for (const auto& c : criteria) {
      int r = 0;
      switch (c.key) {
        case Key::arrival:
          r = a.arrival < b.arrival ? -1 : a.arrival > b.arrival;
          break;
        case Key::date:
          r = a.sent < b.sent ? -1 : a.sent > b.sent;
          break;
        case Key::size:
          r = a.size < b.size ? -1 : a.size > b.size;
          break;
        case Key::subject:
          r = a.subject.text.compare(b.subject.text);
          break;
        case Key::from:
          r = a.from.compare(b.from);
          break;
        case Key::to:
          r = a.to.compare(b.to);
          break;
        case Key::cc:
          r = a.cc.compare(b.cc);
          break;
      }
      if (r != 0) return c.reverse ? r > 0 : r < 0;
    }
    return a.sequence < b.sequence;
  };
  std::sort(items.begin(), items.end(), compare);
}

std::string thread_ordered_subject(std::vector<Item> items) {
  // Sorted by base subject and sent date; each run of one subject a thread whose first
  // message is the parent of all the others; threads ordered by their first message.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.subject.text, a.sent, a.sequence) <
           std::tie(b.subject.text, b.sent, b.sequence);
  });
  std::vector<std::pair<std::size_t, std::size_t>> threads;  // [first, last)
  for (std::size_t i = 0; i < items.size();) {
    std::size_t j = i + 1;
    while (j < items.size() && items[j].subject.text == items[i].subject.text) ++j;
    threads.emplace_back(i, j);
    i = j;
  }
  std::sort(threads.begin(), threads.end(), [&](const auto& a, const auto& b) {
    return std::tie(items[a.first].sent, items[a.first].sequence) <
           std::tie(items[b.first].sent, items[b.first].sequence);
  });
  std::string out;
  for (const auto& [first, last] : threads) {
    out += "(" + std::to_string(items[first].number);
    if (last - first == 2) {
      out += " " + std::to_string(items[first + 1].number);
    } else if (last - first > 2) {
      out += " ";
      for (auto k = first + 1; k < last; ++k) out += "(" + std::to_string(items[k].number) + ")";
    }
    out += ")";
  }
  return out;
}

namespace {

// REFERENCES (RFC 5256 §3, after Zawinski): containers linked by msg-id, dummies for the
// messages referred to but absent.
class Threader {
 public:
  explicit Threader(const std::vector<Item>& items) : items_(items) {}

  std::string run() {
    link();
    std::vector<int> root;
    for (int c = 0; c < static_cast<int>(nodes_.size()); ++c) {
      if (nodes_[c].parent < 0) root.push_back(c);
    }
    root = prune(root, true);
    for (const int c : root) {
      if (is_dummy(c)) sort_siblings(nodes_[c].children);
    }
    sort_siblings(root);
    root = merge_by_subject(root);
    for (const int c : root) sort_tree(c);
    sort_siblings(root);
    std::string out;
    for (const int c : root) out += "(" + members(c) + ")";
    return out;
  }

 private:
  struct Node {
    int item = -1;  // index into items_; -1: a dummy
    int parent = -1;
    std::vector<int> children;
  };

  int add(int item) {
    nodes_.push_back(Node{item, -1, {}});
    return static_cast<int>(nodes_.size()) - 1;
  }
  bool is_dummy(int c) const { return nodes_[c].item < 0; }
  // The container of a msg-id, a dummy when no message has it (yet).
  int container_of(const std::string& id) {
    const auto [it, added] = by_id_.try_emplace(id, 0);
    if (added) it->second = add(-1);
    return it->second;
  }
  // True when `ancestor` is `c` or above it.
  bool is_ancestor(int ancestor, int c) const {
    for (int p = c; p >= 0; p = nodes_[p].parent) {
      if (p == ancestor) return true;
    }
    return false;
  }
  void unlink(int c) {
    auto& siblings = nodes_[nodes_[c].parent].children;
    siblings.erase(std::find(siblings.begin(), siblings.end(), c));
    nodes_[c].parent = -1;
  }
  void adopt(int parent, int child) {
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }

  // Step 1: each message in its container, linked under its references.
  void link() {
    for (int i = 0; i < static_cast<int>(items_.size()); ++i) {
      const auto& m = items_[i];
      int c;
      const auto it = m.message_id.empty() ? by_id_.end() : by_id_.find(m.message_id);
      if (m.message_id.empty() || (it != by_id_.end() && !is_dummy(it->second))) {
        c = add(i);  // no id, or a duplicate one: a message of its own
      } else {
        c = container_of(m.message_id);
        nodes_[c].item = i;
      }
      // (A) Each reference the parent of the next, unless it has one or a loop would form.
      for (std::size_t k = 0; k + 1 < m.references.size(); ++k) {
        const int parent = container_of(m.references[k]);
        const int child = container_of(m.references[k + 1]);
        if (nodes_[child].parent < 0 && !is_ancestor(child, parent)) adopt(parent, child);
      }
      // (B) The last reference is the message's parent, replacing any link presumed before.
      if (nodes_[c].parent >= 0) unlink(c);
      if (!m.references.empty()) {
        const int parent = container_of(m.references.back());
        if (!is_ancestor(c, parent)) adopt(parent, c);
      }
    }
  }

  // Step 3: dummies without children go; those with children give them to their parent's
  // level (at the top only when there is one child).
  std::vector<int> prune(const std::vector<int>& siblings, bool top) {
    std::vector<int> out;
    for (const int c : siblings) {
      nodes_[c].children = prune(nodes_[c].children, false);
      if (!is_dummy(c)) {
        out.push_back(c);
      } else if (nodes_[c].children.empty()) {
        continue;
      } else if (!top || nodes_[c].children.size() == 1) {
        for (const int child : nodes_[c].children) {
          nodes_[child].parent = nodes_[c].parent;
          out.push_back(child);
        }
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  // A container's sent date and sequence number: a dummy's are its first child's.
  const Item& representative(int c) const {
    while (is_dummy(c)) c = nodes_[c].children.front();
    return items_[nodes_[c].item];
  }
  void sort_siblings(std::vector<int>& siblings) const {
    std::stable_sort(siblings.begin(), siblings.end(), [&](int a, int b) {
      const auto& x = representative(a);
      const auto& y = representative(b);
      return std::tie(x.sent, x.sequence) < std::tie(y.sent, y.sequence);
    });
  }
  // Step 6: the youngest siblings first.
  void sort_tree(int c) {
    for (const int child : nodes_[c].children) sort_tree(child);
    sort_siblings(nodes_[c].children);
  }

  // Step 5: top-level threads with one base subject gathered.
  std::vector<int> merge_by_subject(std::vector<int> root) {
    auto subject_of = [&](int c) -> const BaseSubject& { return representative(c).subject; };
    std::unordered_map<std::string, int> table;
    for (const int c : root) {
      const auto& subject = subject_of(c);
      if (subject.text.empty()) continue;
      const auto [it, added] = table.try_emplace(subject.text, c);
      if (added) continue;
      const int old = it->second;
      if (!is_dummy(old) &&
          (is_dummy(c) || (subject_of(old).is_reply_or_forward && !subject.is_reply_or_forward))) {
        it->second = c;
      }
    }
    std::vector<int> out;
    std::vector<bool> gone(nodes_.size(), false);
    for (const int c : root) {
      if (gone[c]) continue;  // already put under a new dummy
      const auto& subject = subject_of(c);
      const auto it = subject.text.empty() ? table.end() : table.find(subject.text);
      if (it == table.end() || it->second == c) continue;
      const int kept = it->second;
      if (is_dummy(kept) && is_dummy(c)) {
        for (const int child : nodes_[c].children) adopt(kept, child);
        nodes_[c].children.clear();
      } else if (is_dummy(kept) ||
                 (subject.is_reply_or_forward && !subject_of(kept).is_reply_or_forward)) {
        adopt(kept, c);
      } else {
        const int dummy = add(-1);
        gone.resize(nodes_.size(), false);
        adopt(dummy, kept);
        adopt(dummy, c);
        gone[kept] = true;
        it->second = dummy;
        out.push_back(dummy);
      }
      gone[c] = true;
    }
    std::vector<int> result;
    for (const int c : root) {
      if (!gone[c]) result.push_back(c);
    }
    for (const int c : out) {
      if (!gone[c]) result.push_back(c);
    }
    return result;
  }

  // thread-members / thread-nested (RFC 5256 §4): a chain of only children written flat,
  // several children each in parentheses.
  std::string members(int c) const {
    const auto& kids = nodes_[c].children;
    std::string out;
    if (!is_dummy(c)) out = std::to_string(items_[nodes_[c].item].number);
    if (kids.size() == 1) {
      if (!out.empty()) out += " ";
      out += members(kids.front());
    } else if (!kids.empty()) {
      if (!out.empty()) out += " ";
      for (const int k : kids) out += "(" + members(k) + ")";
    }
    return out;
  }

  const std::vector<Item>& items_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, int> by_id_;
};

}  // namespace

std::string thread_references(const std::vector<Item>& items) {
  return Threader(items).run();
}

}  // namespace postino::imap::sort
