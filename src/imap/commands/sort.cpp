// SORT, THREAD, UID SORT and UID THREAD (RFC 5256): the search keys of SEARCH choose the
// messages, the envelope fields kept at delivery order and thread them (imap/sort.hpp),
// in one store query and without reading a message file.
#include <algorithm>

#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/sort.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {
namespace {

std::optional<std::vector<sort::Criterion>> sort_criteria(const wire::Token& list) {
  static constexpr std::pair<std::string_view, sort::Key> keys[] = {{"ARRIVAL", sort::Key::arrival},
                                                                    {"CC", sort::Key::cc},
                                                                    {"DATE", sort::Key::date},
                                                                    {"FROM", sort::Key::from},
                                                                    {"SIZE", sort::Key::size},
                                                                    {"SUBJECT", sort::Key::subject},
                                                                    {"TO", sort::Key::to}};
  if (list.type != wire::Token::Type::list || list.children.empty()) return std::nullopt;
  std::vector<sort::Criterion> criteria;
  bool reverse = false;
  for (const auto& t : list.children) {
    if (t.type != wire::Token::Type::atom) return std::nullopt;
    const auto name = base::to_upper(t.value);
    if (name == "REVERSE") {
      if (reverse) return std::nullopt;
      reverse = true;
      continue;
    }
    const auto* key = std::find_if(std::begin(keys), std::end(keys),
                                   [&](const auto& k) { return k.first == name; });
    if (key == std::end(keys)) return std::nullopt;
    criteria.push_back({key->second, std::exchange(reverse, false)});
  }
  if (reverse) return std::nullopt;  // REVERSE must precede a key
  return criteria;
}

std::int64_t seconds(store::SystemClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

store::Result<std::vector<sort::Item>> Session::matching_items(SearchQuery& query, bool by_uid,
                                                               std::uint64_t& highest_modseq) {
  const auto& s = std::get<Selected>(state_);
  MailboxFields fields;
  if (auto r = load_fields(fields); !r) return r.error();
  static const mime::EnvelopeFields none;
  std::vector<sort::Item> items;
  highest_modseq = 0;
  for (const auto i : run_search(query, &fields.by_uid)) {
    const auto& m = s.messages[i];
    const auto f = fields.by_uid.find(m.uid.value);
    const auto sequence = static_cast<std::uint32_t>(i + 1);
    items.push_back(sort::make_item(by_uid ? m.uid.value : sequence, sequence,
                                    seconds(m.internal_date), m.size,
                                    f == fields.by_uid.end() ? none : *f->second));
    highest_modseq = std::max(highest_modseq, m.mod_seq.value);
  }
  return items;
}

void Session::sort(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid) {
  const auto& args = cmd.arguments;
  if (args.size() < first + 3) {
    return bad(cmd.tag, "Syntax: SORT (sort-criteria) charset search-keys", out);
  }
  auto criteria = sort_criteria(args[first]);
  if (!criteria) return bad(cmd.tag, "Invalid sort criteria", out);
  if (!known_charset(cmd, args[first + 1].value, out)) return;
  auto query = parse_search(cmd, first + 2, out);
  if (!query) return;
  const bool with_modseq = uses_modseq(*query);
  if (with_modseq) condstore_ = true;
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, query = std::move(query), criteria = std::move(*criteria),
              by_uid, with_modseq] {
    std::uint64_t highest = 0;
    auto items = matching_items(*query, by_uid, highest);
    if (!items) {
      work_.reply = wire::tagged(tag, no_for(items.error()));
      return;
    }
    sort::order(*items, criteria);
    std::string reply = "* SORT";
    for (const auto& item : *items) reply += " " + std::to_string(item.number);
    if (with_modseq && !items->empty()) reply += " (MODSEQ " + std::to_string(highest) + ")";
    work_.reply =
        reply + "\r\n" + wire::tagged(tag, by_uid ? "OK UID SORT completed" : "OK SORT completed");
  };
}

void Session::thread(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid) {
  const auto& args = cmd.arguments;
  if (args.size() < first + 3 || args[first].type != wire::Token::Type::atom) {
    return bad(cmd.tag, "Syntax: THREAD algorithm charset search-keys", out);
  }
  const auto algorithm = base::to_upper(args[first].value);
  if (algorithm != "REFERENCES" && algorithm != "ORDEREDSUBJECT") {
    return bad(cmd.tag, "Unknown threading algorithm " + args[first].value, out);
  }
  if (!known_charset(cmd, args[first + 1].value, out)) return;
  auto query = parse_search(cmd, first + 2, out);
  if (!query) return;
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, query = std::move(query), references = algorithm == "REFERENCES",
              by_uid] {
    std::uint64_t highest = 0;
    auto items = matching_items(*query, by_uid, highest);
    if (!items) {
      work_.reply = wire::tagged(tag, no_for(items.error()));
      return;
    }
    const auto threads = references ? sort::thread_references(*items)
                                    : sort::thread_ordered_subject(std::move(*items));
    work_.reply = "* THREAD" + (threads.empty() ? "" : " " + threads) + "\r\n" +
                  wire::tagged(tag, by_uid ? "OK UID THREAD completed" : "OK THREAD completed");
  };
}

}  // namespace postino::imap
