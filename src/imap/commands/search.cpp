// SEARCH and UID SEARCH (RFC 3501 §6.4.4) over flags, sizes, dates, UIDs, sequence sets
// and the header fields kept at delivery (FROM, TO, CC, BCC, SUBJECT), with AND, OR, NOT
// and parentheses; SENT* compare the Date field's calendar date; header keys match RFC
// 2047-decoded text. BODY and TEXT ask the store's full-text index once per search, and
// read only the messages the index does not hold (and every message for strings shorter
// than the index can look up); HEADER reads the message's header.
#include <charconv>
#include <ctime>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/ascii.hpp"
#include "base/unicode.hpp"
#include "imap/lazy_message.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/response.hpp"
#include "imap/wire/sequence_set.hpp"
#include "mime/date.hpp"
#include "mime/encoded_word.hpp"
#include "mime/header.hpp"
#include "mime/search_text.hpp"

namespace postino::imap {
namespace {

constexpr int max_search_depth = 64;  // RELIABILITY L07: nested OR/NOT stay bounded

struct Criterion {
  enum class Kind {
    all,
    none,
    flag_set,
    flag_clear,
    keyword,
    no_keyword,
    larger,
    smaller,
    before,
    on,
    since,
    sent_before,
    sent_on,
    sent_since,
    header,
    header_named,
    body,
    text,
    uid,
    sequence,
    modseq,
    not_,
    or_,
    and_
  };
  Criterion(Kind k = Kind::all, std::uint32_t f = 0)
      : kind(k), flag(f) {}  // NOLINT: implicit on purpose
  Kind kind;
  std::uint32_t flag = 0;
  std::string text;         // keyword, or lower-cased header substring
  std::string field;        // header: "from", "to", "cc", "bcc", "subject"; header_named: any
  std::int64_t number = 0;  // size, or days since the epoch for dates
  std::optional<wire::SequenceSet> set;
  std::vector<Criterion> children;
  // BODY, TEXT: the full-text index's answer for the whole mailbox, when it could give
  // one; header keys: the candidates it gave (header_candidates).
  struct IndexAnswer {
    std::unordered_set<std::uint32_t> matching, unindexed;  // UIDs
  };
  std::shared_ptr<const IndexAnswer> index;
};

struct SearchError {
  std::string text;
};

std::int64_t days(store::SystemClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() / 86400;
}

// date = d-Mon-yyyy (RFC 3501 §9 date-text).
std::int64_t parse_date(std::string_view s) {
  static constexpr const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  const auto d1 = s.find('-'), d2 = s.rfind('-');
  if (d1 == std::string_view::npos || d1 == d2) throw SearchError{"Invalid date"};
  int day = 0, year = 0, mon = -1;
  std::from_chars(s.data(), s.data() + d1, day);
  std::from_chars(s.data() + d2 + 1, s.data() + s.size(), year);
  for (int i = 0; i < 12; ++i) {
    if (base::iequals(s.substr(d1 + 1, d2 - d1 - 1), months[i])) mon = i;
  }
  if (mon < 0 || day < 1 || day > 31 || year < 1900 || year > 9999)
    throw SearchError{"Invalid date"};
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  return timegm(&tm) / 86400;
}

class Parser {
 public:
  // `saved`: the UIDs "$" stands for (RFC 5182).
  Parser(const std::vector<wire::Token>& tokens, const wire::SequenceSet& saved)
      : tokens_(tokens), saved_(saved) {}
  bool done() const { return i_ >= tokens_.size(); }

  Criterion next(int depth) {
    if (depth > max_search_depth) throw SearchError{"Search too complex"};
    if (done()) throw SearchError{"Missing search key"};
    const auto& t = tokens_[i_++];
    if (t.type == wire::Token::Type::list) {
      Parser inner(t.children, saved_);
      Criterion c{Criterion::Kind::and_};
      while (!inner.done()) c.children.push_back(inner.next(depth + 1));
      if (c.children.empty()) throw SearchError{"Empty search list"};
      return c;
    }
    const auto key = base::to_upper(t.value);
    using K = Criterion::Kind;
    auto flag = [](K kind, std::uint32_t bit) { return Criterion{kind, bit}; };
    if (key == "ALL") return {K::all};
    if (key == "SEEN") return flag(K::flag_set, store::flag_seen);
    if (key == "UNSEEN") return flag(K::flag_clear, store::flag_seen);
    if (key == "ANSWERED") return flag(K::flag_set, store::flag_answered);
    if (key == "UNANSWERED") return flag(K::flag_clear, store::flag_answered);
    if (key == "FLAGGED") return flag(K::flag_set, store::flag_flagged);
    if (key == "UNFLAGGED") return flag(K::flag_clear, store::flag_flagged);
    if (key == "DELETED") return flag(K::flag_set, store::flag_deleted);
    if (key == "UNDELETED") return flag(K::flag_clear, store::flag_deleted);
    if (key == "DRAFT") return flag(K::flag_set, store::flag_draft);
    if (key == "UNDRAFT") return flag(K::flag_clear, store::flag_draft);
    // No message is \Recent in Postino (RFC 9051 dropped it): NEW and RECENT match none.
    if (key == "RECENT" || key == "NEW") return {K::none};
    if (key == "OLD") return {K::all};
    if (key == "KEYWORD" || key == "UNKEYWORD") {
      Criterion c{key == "KEYWORD" ? K::keyword : K::no_keyword};
      c.text = argument();
      return c;
    }
    if (key == "LARGER" || key == "SMALLER") {
      Criterion c{key == "LARGER" ? K::larger : K::smaller};
      const auto n = argument();
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), c.number);
      if (ec != std::errc{} || end != n.data() + n.size() || c.number < 0)
        throw SearchError{"Invalid number"};
      return c;
    }
    if (key == "BEFORE" || key == "ON" || key == "SINCE") {
      Criterion c{key == "BEFORE" ? K::before : key == "ON" ? K::on : K::since};
      c.number = parse_date(argument());
      return c;
    }
    if (key == "FROM" || key == "TO" || key == "CC" || key == "BCC" || key == "SUBJECT") {
      Criterion c{K::header};
      c.field = base::to_lower(key);
      c.text = base::utf8_lower(argument());
      return c;
    }
    if (key == "MODSEQ") {
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type] n. Flags are not tracked one by
      // one, so an entry name is read and treated as "all".
      Criterion c{K::modseq};
      if (!done() && tokens_[i_].type != wire::Token::Type::atom) {
        argument();  // entry name
        const auto type = base::to_lower(argument());
        if (type != "priv" && type != "shared" && type != "all")
          throw SearchError{"Invalid MODSEQ entry type"};
      }
      const auto n = argument();
      std::uint64_t v = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (ec != std::errc{} || end != n.data() + n.size() || v > 0x7fffffffffffffffULL)
        throw SearchError{"Invalid mod-sequence"};
      c.number = static_cast<std::int64_t>(v);
      return c;
    }
    if (key == "$") {
      // RFC 5182 §2.1: the saved result, kept as UIDs, whether used as a sequence set or
      // after UID.
      Criterion c{K::uid};
      c.set = saved_;
      return c;
    }
    if (key == "UID") {
      Criterion c{K::uid};
      const auto set = argument();
      c.set = set == "$" ? saved_ : wire::SequenceSet::parse(set);
      if (!c.set) throw SearchError{"Invalid UID set"};
      return c;
    }
    if (key == "NOT") {
      Criterion c{K::not_};
      c.children.push_back(next(depth + 1));
      return c;
    }
    if (key == "OR") {
      Criterion c{K::or_};
      c.children.push_back(next(depth + 1));
      c.children.push_back(next(depth + 1));
      return c;
    }
    if (key == "BODY" || key == "TEXT") {
      Criterion c{key == "BODY" ? K::body : K::text};
      c.text = base::utf8_lower(argument());
      return c;
    }
    if (key == "HEADER") {
      Criterion c{K::header_named};
      c.field = argument();
      c.text = base::utf8_lower(argument());
      return c;
    }
    if (key == "SENTBEFORE" || key == "SENTON" || key == "SENTSINCE") {
      Criterion c{key == "SENTBEFORE" ? K::sent_before
                  : key == "SENTON"   ? K::sent_on
                                      : K::sent_since};
      c.number = parse_date(argument());
      return c;
    }
    if (auto set = wire::SequenceSet::parse(t.value)) {
      Criterion c{K::sequence};
      c.set = std::move(set);
      return c;
    }
    throw SearchError{"Unknown search key " + key};
  }

 private:
  std::string argument() {
    if (done() || !tokens_[i_].is_astring()) throw SearchError{"Missing search argument"};
    return tokens_[i_++].value;
  }
  const std::vector<wire::Token>& tokens_;
  const wire::SequenceSet& saved_;
  std::size_t i_ = 0;
};

struct Candidate {
  const store::MessageInfo& info;
  std::uint32_t sequence;
  std::uint32_t last_sequence, last_uid;
  LazyMessage& message;  // details and bytes, read when a criterion needs them
  // The envelope fields, loaded for the whole mailbox at once when a key needs them;
  // null when they were not (or the message went meanwhile): then from `message`.
  const mime::EnvelopeFields* fields;

  const mime::EnvelopeFields* envelope_fields() const {
    if (fields) return fields;
    const auto* d = message.details();
    return d ? &d->fields : nullptr;
  }
};

// Case-insensitive substring, as RFC 3501 §6.4.4 asks, with Unicode case folding (the
// full-text index folds the same way).
bool contains(std::string_view haystack, const std::string& lower_needle) {
  return base::utf8_icontains(haystack, lower_needle);
}

bool header_matches(const store::MessageDetails& details, std::string_view bytes,
                    const Criterion& c) {
  const auto header = bytes.substr(0, details.structure.parts[0].header_size);
  for (const auto& f : mime::parse_header(header)) {
    if (base::iequals(f.name, c.field) &&
        contains(mime::decode_encoded_words(mime::unfold(f.value)), c.text)) {
      return true;
    }
  }
  return false;
}

// The text parts, decoded from their transfer encoding and converted to UTF-8, the same
// text the full-text index holds (mime/search_text.hpp).
bool body_matches(const store::MessageDetails& details, std::string_view bytes,
                  const std::string& needle) {
  for (const auto& p : details.structure.parts) {
    if (p.type != "text" || !p.children.empty()) continue;
    if (contains(mime::part_text(bytes, p), needle)) return true;
  }
  return false;
}

// The full-text index's answer: the messages whose text holds every string of `all_of`,
// and those it has not indexed; nullptr when it cannot say (too short, a store error).
std::shared_ptr<Criterion::IndexAnswer> ask_index(store::Store& store, store::AccountId account,
                                                  store::MailboxId mailbox,
                                                  store::Store::TextField field,
                                                  const std::vector<std::string_view>& all_of) {
  auto r = store.search_text_all(account, mailbox, field, all_of);
  if (!r) return nullptr;
  auto answer = std::make_shared<Criterion::IndexAnswer>();
  for (const auto uid : r->matching) answer->matching.insert(uid.value);
  for (const auto uid : r->unindexed) answer->unindexed.insert(uid.value);
  return answer;
}

// A header key (FROM, TO, CC, BCC, SUBJECT) matches the field's unfolded, decoded value;
// the index holds the header as it came, decoded but still folded, and a fold is a line
// break put before white space. So each piece of the string between white space is in
// the indexed header of every message that matches: the messages holding all the pieces
// of three characters or more (the index's least) are the only candidates, checked
// against their fields. Nullptr when no piece is long enough to ask about.
std::shared_ptr<Criterion::IndexAnswer> header_candidates(store::Store& store,
                                                          store::AccountId account,
                                                          store::MailboxId mailbox,
                                                          const std::string& needle) {
  std::vector<std::string_view> pieces;
  std::size_t at = 0;
  while (at < needle.size()) {
    const auto end = std::min(needle.find_first_of(" \t", at), needle.size());
    const auto piece = std::string_view(needle).substr(at, end - at);
    at = end + 1;
    if (base::utf8_length(piece) >= store::Store::min_indexed_needle_chars) pieces.push_back(piece);
  }
  if (pieces.empty()) return nullptr;
  return ask_index(store, account, mailbox, store::Store::TextField::header, pieces);
}

// Asks the full-text index for every BODY and TEXT key of the search, and for the
// candidates of every header key, once each. A key it cannot answer (a string too short
// for trigrams, a store error) is left to reading.
void consult_index(Criterion& c, store::Store& store, store::AccountId account,
                   store::MailboxId mailbox) {
  using K = Criterion::Kind;
  for (auto& child : c.children) consult_index(child, store, account, mailbox);
  if (c.kind == K::header) {
    c.index = header_candidates(store, account, mailbox, c.text);
    return;
  }
  if (c.kind != K::body && c.kind != K::text) return;
  c.index = ask_index(
      store, account, mailbox,
      c.kind == K::body ? store::Store::TextField::body : store::Store::TextField::any, {c.text});
}

// True when a key reads envelope fields of more messages than is worth asking for one
// by one: SENT*, a header key the index could not narrow, or one with many candidates.
bool needs_many_fields(const Criterion& c, std::size_t messages) {
  using K = Criterion::Kind;
  if (c.kind == K::sent_before || c.kind == K::sent_on || c.kind == K::sent_since) return true;
  if (c.kind == K::header) {
    if (!c.index) return true;
    // One query reads every message's fields in about the time of 20 single ones.
    return (c.index->matching.size() + c.index->unindexed.size()) * 20 > messages;
  }
  for (const auto& child : c.children) {
    if (needs_many_fields(child, messages)) return true;
  }
  return false;
}

// The UIDs of every header key's candidates (the index's matching and unindexed messages).
void header_candidates_of(const Criterion& c, std::set<std::uint32_t>& out) {
  if (c.kind == Criterion::Kind::header && c.index) {
    out.insert(c.index->matching.begin(), c.index->matching.end());
    out.insert(c.index->unindexed.begin(), c.index->unindexed.end());
  }
  for (const auto& child : c.children) header_candidates_of(child, out);
}

bool matches(const Criterion& c, const Candidate& m) {
  using K = Criterion::Kind;
  switch (c.kind) {
    case K::all:
      return true;
    case K::none:
      return false;
    case K::modseq:
      return m.info.mod_seq.value >= static_cast<std::uint64_t>(c.number);
    case K::flag_set:
      return (m.info.flags.system & c.flag) != 0;
    case K::flag_clear:
      return (m.info.flags.system & c.flag) == 0;
    case K::keyword:
    case K::no_keyword: {
      bool has = false;
      for (const auto& k : m.info.flags.keywords) has = has || base::iequals(k, c.text);
      return has == (c.kind == K::keyword);
    }
    case K::larger:
      return m.info.size > c.number;
    case K::smaller:
      return m.info.size < c.number;
    case K::before:
      return days(m.info.internal_date) < c.number;
    case K::on:
      return days(m.info.internal_date) == c.number;
    case K::since:
      return days(m.info.internal_date) >= c.number;
    case K::header: {
      if (c.index && !c.index->unindexed.contains(m.info.uid.value) &&
          !c.index->matching.contains(m.info.uid.value)) {
        return false;  // not a candidate (header_candidates)
      }
      const auto* f = m.envelope_fields();
      if (!f) return false;
      const std::string& v = c.field == "from"  ? f->from
                             : c.field == "to"  ? f->to
                             : c.field == "cc"  ? f->cc
                             : c.field == "bcc" ? f->bcc
                                                : f->subject;
      // Case-insensitive substring (RFC 3501 §6.4.4) of the decoded text; most values
      // hold no encoded word and are searched as they are.
      if (v.find("=?") == std::string::npos) return contains(v, c.text);
      return contains(mime::decode_encoded_words(v), c.text);
    }
    case K::sent_before:
    case K::sent_on:
    case K::sent_since: {
      // The Date field's date, time and zone disregarded (RFC 3501 §6.4.4); no Date, no match.
      const auto* f = m.envelope_fields();
      const auto sent = f ? mime::date_days(f->date) : std::nullopt;
      if (!sent) return false;
      return c.kind == K::sent_before ? *sent < c.number
             : c.kind == K::sent_on   ? *sent == c.number
                                      : *sent >= c.number;
    }
    case K::header_named:
    case K::body:
    case K::text: {
      if (c.index && !c.index->unindexed.contains(m.info.uid.value))
        return c.index->matching.contains(m.info.uid.value);
      const auto* d = m.message.details();
      const auto* bytes = m.message.bytes();
      if (!d || !bytes || d->structure.parts.empty()) return false;
      if (c.kind == K::header_named) return header_matches(*d, *bytes, c);
      if (c.kind == K::text) {
        const auto header = std::string_view(*bytes).substr(0, d->structure.parts[0].header_size);
        if (contains(mime::decode_encoded_words(header), c.text)) return true;
      }
      return body_matches(*d, *bytes, c.text);
    }
    case K::uid:
      return c.set->contains(m.info.uid.value, m.last_uid);
    case K::sequence:
      return c.set->contains(m.sequence, m.last_sequence);
    case K::not_:
      return !matches(c.children[0], m);
    case K::or_:
      return matches(c.children[0], m) || matches(c.children[1], m);
    case K::and_:
      for (const auto& child : c.children) {
        if (!matches(child, m)) return false;
      }
      return true;
  }
  return false;
}

bool has_modseq_key(const Criterion& c) {
  if (c.kind == Criterion::Kind::modseq) return true;
  for (const auto& child : c.children) {
    if (has_modseq_key(child)) return true;
  }
  return false;
}

}  // namespace

struct Session::SearchQuery {
  Criterion criterion;
};

store::Result<void> Session::load_fields(MailboxFields& into,
                                         const std::vector<store::Uid>* only) const {
  const auto& s = std::get<Selected>(state_);
  auto r = only ? settings_.store->envelope_fields(s.account.id, s.mailbox.id, *only)
                : settings_.store->envelope_fields(s.account.id, s.mailbox.id);
  if (!r) return r.error();
  into.list = std::move(*r);
  for (const auto& [uid, f] : into.list) into.by_uid[uid.value] = &f;
  return {};
}

bool Session::uses_modseq(const SearchQuery& query) {
  return has_modseq_key(query.criterion);
}

bool Session::known_charset(const wire::Command& cmd, std::string_view charset, net::Output& out) {
  const auto upper = base::to_upper(charset);
  if (upper == "UTF-8") return true;
  // RFC 6855 erratum 4029: SORT and THREAD name UTF-8 once UTF8=ACCEPT is on.
  if (utf8_accept_) {
    bad(cmd.tag, "Only CHARSET UTF-8 after ENABLE UTF8=ACCEPT", out);
    return false;
  }
  if (upper == "US-ASCII") return true;
  out.bytes += wire::tagged(cmd.tag, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
  return false;
}

std::shared_ptr<Session::SearchQuery> Session::parse_search(const wire::Command& cmd,
                                                            const std::vector<wire::Token>& tokens,
                                                            net::Output& out) {
  auto query = std::make_shared<SearchQuery>(SearchQuery{Criterion{Criterion::Kind::and_}});
  try {
    const auto saved = wire::SequenceSet::of(std::get<Selected>(state_).saved);
    Parser p(tokens, saved);
    while (!p.done()) query->criterion.children.push_back(p.next(0));
    if (query->criterion.children.empty()) throw SearchError{"Missing search key"};
  } catch (const SearchError& e) {
    bad(cmd.tag, e.text, out);
    return nullptr;
  }
  return query;
}

std::vector<std::size_t> Session::run_search(SearchQuery& query, const FieldsByUid* fields_of) {
  const auto& s = std::get<Selected>(state_);
  auto& criterion = query.criterion;
  consult_index(criterion, *settings_.store, s.account.id, s.mailbox.id);
  // Header keys over many messages: every message's fields in one query; over a few
  // candidates, theirs in one query (on an error, each message's own, as they are needed).
  MailboxFields loaded;
  if (!fields_of && needs_many_fields(criterion, s.messages.size())) {
    (void)load_fields(loaded);
  } else if (!fields_of) {
    std::set<std::uint32_t> candidates;
    header_candidates_of(criterion, candidates);
    if (!candidates.empty()) {
      const std::vector<store::Uid> uids(candidates.begin(), candidates.end());
      (void)load_fields(loaded, &uids);
    }
  }
  if (!fields_of) fields_of = &loaded.by_uid;
  std::vector<std::size_t> found;
  const auto last_uid = s.messages.empty() ? 0 : s.messages.back().uid.value;
  for (std::size_t i = 0; i < s.messages.size(); ++i) {
    const auto& m = s.messages[i];
    LazyMessage message(*settings_.store, s.account.id, s.mailbox.id, m.uid);
    const auto known = fields_of->find(m.uid.value);
    const Candidate c{m,
                      static_cast<std::uint32_t>(i + 1),
                      static_cast<std::uint32_t>(s.messages.size()),
                      last_uid,
                      message,
                      known == fields_of->end() ? nullptr : known->second};
    if (matches(criterion, c)) found.push_back(i);
  }
  return found;
}

std::optional<wire::SequenceSet> Session::message_set(std::string_view text, bool by_uid) const {
  if (text != "$") return wire::SequenceSet::parse(text);
  const auto& s = std::get<Selected>(state_);
  if (by_uid) return wire::SequenceSet::of(s.saved);
  std::vector<std::uint32_t> numbers;  // the saved UIDs still in this view, by position
  for (std::size_t i = 0, j = 0; i < s.messages.size() && j < s.saved.size();) {
    if (s.messages[i].uid.value < s.saved[j]) {
      ++i;
    } else if (s.messages[i].uid.value > s.saved[j]) {
      ++j;
    } else {
      numbers.push_back(static_cast<std::uint32_t>(++i));
      ++j;
    }
  }
  return wire::SequenceSet::of(numbers);
}

void Session::search(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid) {
  std::vector<wire::Token> tokens(cmd.arguments.begin() + static_cast<std::ptrdiff_t>(first),
                                  cmd.arguments.end());
  // ESEARCH (RFC 4731): SEARCH RETURN (MIN MAX ALL COUNT) criteria; RETURN () is ALL.
  // SEARCHRES (RFC 5182): SAVE keeps the result for "$"; alone, it answers nothing.
  struct Return {
    bool min = false, max = false, all = false, count = false, save = false;
  };
  auto& saved = std::get<Selected>(state_).saved;
  std::optional<Return> extended;
  if (tokens.size() >= 2 && tokens[0].type == wire::Token::Type::atom &&
      base::iequals(tokens[0].value, "RETURN") && tokens[1].type == wire::Token::Type::list) {
    Return r;
    for (const auto& o : tokens[1].children) {
      const auto option = base::to_upper(o.value);
      if (option == "MIN")
        r.min = true;
      else if (option == "MAX")
        r.max = true;
      else if (option == "ALL")
        r.all = true;
      else if (option == "COUNT")
        r.count = true;
      else if (option == "SAVE")
        r.save = true;
      else
        return bad(cmd.tag, "Unknown SEARCH RETURN option " + o.value, out);
    }
    if (!r.min && !r.max && !r.count && !r.save) r.all = r.all || tokens[1].children.empty();
    // RFC 5182 §2.1: a SEARCH that saves and fails leaves "$" empty.
    if (r.save) saved.clear();
    extended = r;
    tokens.erase(tokens.begin(), tokens.begin() + 2);
  } else if (rev2_) {
    extended = Return{false, false, true, false, false};  // RFC 9051 §6.4.4: ALL assumed
  }
  if (tokens.size() >= 2 && base::iequals(tokens[0].value, "CHARSET")) {
    // RFC 6855 §3 (erratum 4029): after ENABLE UTF8=ACCEPT a charset conflicts.
    if (utf8_accept_) return bad(cmd.tag, "No CHARSET after ENABLE UTF8=ACCEPT", out);
    if (!known_charset(cmd, tokens[1].value, out)) return;
    tokens.erase(tokens.begin(), tokens.begin() + 2);
  }
  auto query = parse_search(cmd, tokens, out);
  if (!query) return;
  // RFC 7162 §3.1.5: MODSEQ turns CONDSTORE on and the answer ends with the highest
  // mod-sequence of the messages found.
  const bool with_modseq = uses_modseq(*query);
  if (with_modseq) condstore_ = true;
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, query = std::move(query), by_uid, with_modseq, extended] {
    const auto& s = std::get<Selected>(state_);
    std::string result = "* SEARCH";
    std::vector<std::uint32_t> found, found_uids;
    std::uint64_t highest = 0;
    for (const auto i : run_search(*query, nullptr)) {
      const auto& m = s.messages[i];
      found.push_back(by_uid ? m.uid.value : static_cast<std::uint32_t>(i + 1));
      found_uids.push_back(m.uid.value);
      highest = std::max(highest, m.mod_seq.value);
    }
    if (extended && extended->save) {
      // RFC 5182 §2.4: with MIN or MAX, only those are saved.
      auto& keep = std::get<Selected>(state_).saved;
      keep.clear();
      if (!found_uids.empty() && (extended->min || extended->max)) {
        if (extended->min) keep.push_back(found_uids.front());
        if (extended->max && (keep.empty() || keep.back() != found_uids.back()))
          keep.push_back(found_uids.back());
      } else {
        keep = found_uids;
      }
    }
    if (extended && extended->save && !extended->min && !extended->max && !extended->all &&
        !extended->count) {
      result.clear();  // RFC 5182 §2.1: SAVE alone, no ESEARCH response
    } else if (extended) {
      // RFC 4731 §3.1: one ESEARCH with what was asked; MIN, MAX and ALL only when found.
      // A tag has no quote or backslash (RFC 3501 §9: ATOM-CHAR).
      result = "* ESEARCH (TAG \"" + tag + "\")" + (by_uid ? " UID" : "");
      if (extended->min && !found.empty()) result += " MIN " + std::to_string(found.front());
      if (extended->max && !found.empty()) result += " MAX " + std::to_string(found.back());
      if (extended->all && !found.empty()) result += " ALL " + wire::format_sequence_set(found);
      if (extended->count) result += " COUNT " + std::to_string(found.size());
      if (with_modseq && highest > 0) result += " MODSEQ " + std::to_string(highest);
    } else {
      for (const auto n : found) result += " " + std::to_string(n);
      if (with_modseq && highest > 0) result += " (MODSEQ " + std::to_string(highest) + ")";
    }
    if (!result.empty()) result += "\r\n";
    work_.reply =
        result + wire::tagged(tag, by_uid ? "OK UID SEARCH completed" : "OK SEARCH completed");
  };
}

}  // namespace postino::imap
