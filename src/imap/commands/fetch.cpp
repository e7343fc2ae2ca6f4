// FETCH (RFC 3501 §6.4.5) and STORE (§6.4.6), by sequence number or UID. FETCH serves
// FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODYSTRUCTURE, BODY, RFC822,
// RFC822.HEADER, RFC822.TEXT and BODY[section]<partial> / BODY.PEEK[…] with every section
// (1.2, HEADER, HEADER.FIELDS[.NOT], TEXT, MIME), and BINARY[part]<partial>, BINARY.PEEK
// and BINARY.SIZE (RFC 3516).
#include <algorithm>
#include <charconv>
#include <ctime>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/ascii.hpp"
#include "imap/commands/details_reader.hpp"
#include "imap/commands/fetch_item.hpp"
#include "imap/lazy_message.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/bodystructure.hpp"
#include "imap/wire/envelope.hpp"
#include "imap/wire/flags.hpp"
#include "imap/wire/response.hpp"
#include "imap/wire/section.hpp"
#include "imap/wire/sequence_set.hpp"
#include "mime/transfer.hpp"

namespace postino::imap {
namespace {

// A mod-sequence value (RFC 7162 §7: 1 to 2^63-1; CHANGEDSINCE and UNCHANGEDSINCE take 0).
bool parse_modseq(std::string_view text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty() &&
         out <= 0x7fffffffffffffffULL;
}

std::string internal_date(store::SystemClock::time_point t) {
  const std::time_t tt = store::SystemClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "\"%e-%b-%Y %H:%M:%S +0000\"", &tm);
  return buf;
}

// The messages of the view in `set`: by sequence number or by UID.
std::vector<std::size_t> resolve(const std::vector<store::MessageInfo>& view,
                                 const wire::SequenceSet& set, bool by_uid) {
  std::vector<std::size_t> out;
  if (view.empty()) return out;
  // Room for every message: what is not filled is never touched, so costs nothing, where
  // growing by doubling copied FETCH 1:*'s (800 KB for 100,000 messages) into fresh pages
  // again and again.
  out.reserve(view.size());
  const auto largest = by_uid ? view.back().uid.value : static_cast<std::uint32_t>(view.size());
  for (std::size_t i = 0; i < view.size(); ++i) {
    if (set.contains(by_uid ? view[i].uid.value : static_cast<std::uint32_t>(i + 1), largest))
      out.push_back(i);
  }
  return out;
}

// The untagged responses of one FETCH and its tagged completion, produced piece by piece
// on the worker pool, so that `FETCH 1:* BODY[]` over a large mailbox never sits whole in
// memory: each next() gives about piece_bytes, messages are looked at one at a time, and a
// literal larger than inline_literal_bytes is read from the message file as it goes out.
class FetchResponder {
 public:
  // Each piece is a trip to the worker pool and back (two thread wake-ups, dear on a
  // virtual machine): 64 KB pieces made FETCH 1:* (ENVELOPE) of 100,000 messages (30 MB)
  // 460 trips. With 256 KB, one client, 100,000 messages: UID FETCH 1:* (FLAGS) 15-20 ->
  // 9-12 ms; ENVELOPE's CPU 240-330 -> 220-290 ms (noisy runs).
  static constexpr std::size_t piece_bytes = 256 * 1024;
  static constexpr std::size_t inline_literal_bytes = 64 * 1024;

  FetchResponder(store::Store& store, store::AccountId account, store::MailboxId mailbox,
                 const std::vector<store::MessageInfo>& view, std::vector<std::size_t> targets,
                 std::vector<FetchItem> items, std::set<std::size_t> seen_now, bool wants_flags,
                 std::string completed, std::string expunged)
      : store_(store),
        account_(account),
        mailbox_(mailbox),
        view_(view),
        targets_(std::move(targets)),
        items_(std::move(items)),
        seen_now_(std::move(seen_now)),
        wants_flags_(wants_flags),
        completed_(std::move(completed)),
        expunged_(std::move(expunged)) {
    for (const auto& item : items_) {
      const bool from_view =
          item.kind == FetchItem::Kind::uid || item.kind == FetchItem::Kind::flags ||
          item.kind == FetchItem::Kind::modseq || item.kind == FetchItem::Kind::internal_date ||
          item.kind == FetchItem::Kind::size;
      needs_details_ = needs_details_ || !from_view;
      needs_structure_ = needs_structure_ || (!from_view && item.kind != FetchItem::Kind::envelope);
    }
  }

  bool done() const { return done_; }
  bool failed() const { return failed_; }

  // Appends the next piece to `out`; nothing once everything, the tagged completion
  // included, has been given.
  void next(std::string& out) {
    // Room for the message that crosses piece_bytes: growing past it would double the
    // string, fresh pages.
    out.reserve(out.size() + piece_bytes + piece_bytes / 4);
    const auto limit = out.size() + piece_bytes;
    while (!done_ && !failed_ && out.size() < limit) {
      if (!segments_.empty()) {
        send_segment(out, limit);
      } else if (next_target_ < targets_.size()) {
        if (!respond(targets_[next_target_++], out)) {
          // Expunged by another session meanwhile (RFC 5530 EXPUNGEISSUED), a BINARY of a
          // part in a transfer encoding unknown here (RFC 3516 §4.3), or a message whose
          // file is gone although the message is not (RELIABILITY C05).
          const auto tag = completed_.substr(0, completed_.find(' '));
          out += unknown_cte_ ? tag + " NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding\r\n"
                 : damaged_   ? tag +
                                  " NO [SERVERBUG] A message file is missing; "
                                  "postino fsck names it\r\n"
                            : expunged_;
          done_ = true;
        }
      } else {
        out += completed_;
        done_ = true;
      }
    }
  }

 private:
  // Text to send as it is, or (`size` > 0) a range of the current message's file.
  struct Segment {
    std::string text;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };

  void send_segment(std::string& out, std::size_t limit) {
    auto& front = segments_.front();
    if (front.size == 0) {
      out += front.text;
      segments_.pop_front();
      return;
    }
    // Up to the piece's size (next() calls while the piece is smaller).
    const auto n = std::min<std::uint64_t>(front.size, limit - out.size());
    const auto at = out.size();
    out.resize(at + n);
    auto got = reader_->read_at(front.offset, out.data() + at, n);
    if (!got || *got != n) {
      failed_ = true;  // the file ended early or could not be read; the piece is not sent
      return;
    }
    without_nul(out.data() + at, n);
    front.offset += n;
    front.size -= n;
    if (front.size == 0) segments_.pop_front();
  }

  // RFC 3501 §4.3: a literal holds no NUL (CHAR8). A message stored with NUL bytes (SMTP
  // took it as it came) is sent with each one as 0x80, as Dovecot does; BINARY sends the
  // bytes as they are in a literal8.
  static void without_nul(char* bytes, std::size_t n) {
    std::replace(bytes, bytes + n, '\0', '\x80');
  }

  // The current message's file, opened once for all its items; false when it is gone
  // (damaged_ set when the message itself is still there).
  bool open_reader(store::Uid uid) {
    if (reader_) return true;
    auto r = store_.open_message(account_, mailbox_, uid);
    if (!r) {
      damaged_ = r.error().kind == store::ErrorKind::corrupt;
      return false;
    }
    reader_ = std::move(*r);
    return true;
  }

  // The bytes of [offset, offset + size) of the current message, read now.
  std::optional<std::string> read_range(std::uint64_t offset, std::uint64_t size) {
    std::string bytes(size, '\0');
    if (size == 0) return bytes;
    auto got = reader_->read_at(offset, bytes.data(), size);
    if (!got || *got != size) return std::nullopt;
    return bytes;
  }

  // BINARY's content of a section: the part's body with its transfer encoding undone
  // (decoded_ set; the whole message, multiparts and messages as they are); nullopt when
  // it cannot be read, or (unknown_cte_ set) when the encoding is not one RFC 2045 defines.
  std::optional<std::string> binary_content(const store::MessageDetails& d, std::uint64_t size,
                                            const wire::Section& section) {
    const auto span = wire::section_span(d.structure, size, section);
    auto raw = read_range(span.offset, span.size);
    const auto part = wire::section_part(d.structure, section);
    decoded_ = false;
    if (!raw || section.path.empty() || !part) return raw;
    const auto& p = d.structure.parts[*part];
    if (!p.children.empty() || p.encoding.empty() || p.encoding == "7bit" || p.encoding == "8bit" ||
        p.encoding == "binary") {
      return raw;
    }
    if (p.encoding == "base64" || p.encoding == "quoted-printable") {
      decoded_ = true;
      return mime::decode_transfer(*raw, p.encoding);
    }
    unknown_cte_ = true;
    return std::nullopt;
  }

  // The FETCH response of view_[i], appended to `out` when it is all text, else laid out
  // as segments; false when the message is gone.
  bool respond(std::size_t i, std::string& out) {
    const auto& m = view_[i];
    LazyMessage message(store_, account_, mailbox_, m.uid);
    if (needs_details_) {
      if (!details_) {
        std::vector<store::Uid> uids;
        uids.reserve(targets_.size());
        for (const auto t : targets_) uids.push_back(view_[t].uid);
        details_ =
            std::make_unique<DetailsReader>(store_, account_, mailbox_, std::move(uids),
                                            needs_structure_ ? store::Store::DetailParts::all
                                                             : store::Store::DetailParts::envelope);
      }
      if (auto d = details_->take(next_target_ - 1)) message.provide(std::move(*d));
    }
    reader_.reset();
    // Built in a buffer kept from message to message (most responses are a few hundred
    // bytes, and FETCH 1:* of a big mailbox builds 100,000 of them).
    auto& text = text_;
    text.clear();
    text += "* ";
    wire::append_number(text, i + 1);
    text += " FETCH (";
    bool first = true;
    auto separate = [&] {
      if (!first) text += ' ';
      first = false;
    };
    auto add = [&](const std::string& a) {
      separate();
      text += a;
    };
    for (const auto& item : items_) {
      switch (item.kind) {
        case FetchItem::Kind::uid:
          separate();
          text += "UID ";
          wire::append_number(text, m.uid.value);
          break;
        case FetchItem::Kind::flags:
          separate();
          text += "FLAGS (";
          wire::append_flags(text, m.flags);
          text += ')';
          break;
        case FetchItem::Kind::modseq:
          separate();
          text += "MODSEQ (";
          wire::append_number(text, m.mod_seq.value);
          text += ')';
          break;
        case FetchItem::Kind::internal_date:
          add("INTERNALDATE " + internal_date(m.internal_date));
          break;
        case FetchItem::Kind::size:
          separate();
          text += "RFC822.SIZE ";
          wire::append_number(text, static_cast<std::uint64_t>(m.size));
          break;
        case FetchItem::Kind::envelope: {
          const auto* details = message.details();
          if (!details) return false;
          separate();
          text += "ENVELOPE ";
          if (details->envelope.empty()) {
            wire::append_envelope(text, details->fields);  // saved before the store kept it
          } else {
            text += details->envelope;
          }
          break;
        }
        case FetchItem::Kind::structure: {
          const auto* details = message.details();
          if (!details) return false;
          std::string_view bytes;
          if (wire::bodystructure_needs_message(details->structure)) {
            if (!message.bytes()) return false;
            bytes = *message.bytes();
          }
          add(item.name + " " +
              wire::format_bodystructure(details->structure, bytes, item.name == "BODYSTRUCTURE"));
          break;
        }
        case FetchItem::Kind::text: {
          const auto* details = message.details();
          if (!details || !open_reader(m.uid)) return false;
          const auto span = wire::section_span(details->structure,
                                               static_cast<std::uint64_t>(m.size), item.section);
          auto clip = [&item](std::uint64_t size) { return clip_partial(item, size); };
          if (span.filters_header) {
            auto header = read_range(span.offset, span.size);
            if (!header) return false;
            const auto fields = wire::section_text(*header, item.section);
            const auto [origin, size] = clip(fields.size());
            auto shown = fields.substr(origin, size);
            without_nul(shown.data(), shown.size());
            add(item.name + " {" + std::to_string(size) + "}\r\n" + shown);
            break;
          }
          const auto [origin, size] = clip(span.size);
          add(item.name + " {" + std::to_string(size) + "}\r\n");
          if (size <= inline_literal_bytes) {
            auto bytes = read_range(span.offset + origin, size);
            if (!bytes) return false;
            without_nul(bytes->data(), bytes->size());
            text += *bytes;
          } else {
            segments_.push_back({text, 0, 0});
            segments_.push_back({{}, span.offset + origin, size});
            text.clear();
          }
          break;
        }
        case FetchItem::Kind::binary:
        case FetchItem::Kind::binary_size: {
          const auto* details = message.details();
          if (!details || !open_reader(m.uid)) return false;
          const auto content =
              binary_content(*details, static_cast<std::uint64_t>(m.size), item.section);
          if (!content) return false;
          if (item.kind == FetchItem::Kind::binary_size) {
            add(item.name + " " + std::to_string(content->size()));
            break;
          }
          const auto [origin, size] = clip_partial(item, content->size());
          const auto bytes = std::string_view(*content).substr(origin, size);
          // RFC 3516 §4.2: literal8 when the content may hold NUL, which a literal may not:
          // whenever a transfer encoding was undone (as Dovecot answers) or NUL is there.
          const bool literal8 = decoded_ || bytes.find('\0') != std::string_view::npos;
          add(item.name + (literal8 ? " ~{" : " {") + std::to_string(size) + "}\r\n");
          text += bytes;
          break;
        }
      }
    }
    if (seen_now_.contains(i) && !wants_flags_) add("FLAGS (" + wire::format_flags(m.flags) + ")");
    text += ")\r\n";
    if (segments_.empty()) {
      out += text;
    } else {
      segments_.push_back({text, 0, 0});
    }
    return true;
  }

  store::Store& store_;
  store::AccountId account_;
  store::MailboxId mailbox_;
  const std::vector<store::MessageInfo>& view_;  // the session's; it waits for the FETCH
  std::vector<std::size_t> targets_;
  std::vector<FetchItem> items_;
  std::string text_;  // the response being built (respond())
  std::set<std::size_t> seen_now_;
  bool wants_flags_;
  std::string completed_, expunged_;
  std::size_t next_target_ = 0;
  std::deque<Segment> segments_;  // of the message being sent
  std::unique_ptr<store::BlobReader> reader_;
  bool needs_details_ = false;              // an item reads the structure or the envelope fields
  bool needs_structure_ = false;            // an item reads the structure (more than ENVELOPE)
  std::unique_ptr<DetailsReader> details_;  // made on first need
  bool done_ = false;
  bool failed_ = false;
  bool unknown_cte_ = false;
  bool damaged_ = false;  // a message is there but its file is not
  bool decoded_ = false;  // the last binary_content() undid a transfer encoding
};

}  // namespace

void Session::fetch(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid) {
  const auto& args = cmd.arguments;
  if ((args.size() != first + 2 && args.size() != first + 3) ||
      args[first].type != wire::Token::Type::atom) {
    return bad(cmd.tag, "Syntax: FETCH sequence-set items", out);
  }
  // RFC 7162 §3.1.4: FETCH set items (CHANGEDSINCE modseq); §3.2.6: UID FETCH … VANISHED.
  std::optional<std::uint64_t> changed_since;
  bool vanished = false;
  if (args.size() == first + 3) {
    const auto& m = args[first + 2];
    std::uint64_t n = 0;
    if (m.type != wire::Token::Type::list || m.children.size() < 2 || m.children.size() > 3 ||
        !base::iequals(m.children[0].value, "CHANGEDSINCE") ||
        !parse_modseq(m.children[1].value, n) ||
        (m.children.size() == 3 && !base::iequals(m.children[2].value, "VANISHED"))) {
      return bad(cmd.tag, "Syntax: FETCH sequence-set items (CHANGEDSINCE modseq [VANISHED])", out);
    }
    changed_since = n;
    vanished = m.children.size() == 3;
    if (vanished && (!by_uid || !qresync_))
      return bad(cmd.tag, "VANISHED needs UID FETCH and ENABLE QRESYNC", out);
  }
  auto set = message_set(args[first].value, by_uid);
  if (!set) return bad(cmd.tag, "Invalid sequence set", out);
  std::vector<std::string> names;
  const auto& items_token = args[first + 1];
  if (items_token.type == wire::Token::Type::list) {
    for (const auto& t : items_token.children) names.push_back(t.value);
  } else if (base::iequals(items_token.value, "FAST")) {
    names = {"FLAGS", "INTERNALDATE", "RFC822.SIZE"};
  } else if (base::iequals(items_token.value, "ALL")) {
    names = {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"};
  } else if (base::iequals(items_token.value, "FULL")) {
    names = {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"};
  } else {
    names = {items_token.value};
  }
  std::vector<FetchItem> items;
  bool wants_uid = false, wants_flags = false, wants_modseq = false, sets_seen = false;
  for (const auto& n : names) {
    std::string error;
    auto item = parse_fetch_item(n, error);
    if (!item) return bad(cmd.tag, error, out);
    wants_uid = wants_uid || item->kind == FetchItem::Kind::uid;
    wants_flags = wants_flags || item->kind == FetchItem::Kind::flags;
    wants_modseq = wants_modseq || item->kind == FetchItem::Kind::modseq;
    sets_seen = sets_seen || item->sets_seen;
    items.push_back(*item);
  }
  // RFC 3501 §6.4.8: UID FETCH always reports the UID.
  if (by_uid && !wants_uid)
    items.insert(items.begin(), make_fetch_item(FetchItem::Kind::uid, {}, "UID"));
  // RFC 7162 §3.1: MODSEQ and CHANGEDSINCE turn CONDSTORE on; then CHANGEDSINCE, and a flag
  // change made by this FETCH (\Seen), report MODSEQ.
  if (wants_modseq || changed_since) condstore_ = true;
  if (!wants_modseq && (changed_since || (condstore_ && sets_seen)))
    items.push_back(make_fetch_item(FetchItem::Kind::modseq, {}, "MODSEQ"));
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, set = *set, items, by_uid, wants_flags, changed_since,
              vanished] {
    auto& s = std::get<Selected>(state_);
    std::string earlier;  // VANISHED (EARLIER): the set's UIDs expunged since
    if (vanished) {
      auto gone = settings_.store->expunged_since(s.account.id, s.mailbox.id,
                                                  store::ModSeq(*changed_since));
      if (!gone) {
        work_.reply = wire::tagged(tag, no_for(gone.error()));
        return;
      }
      std::vector<std::uint32_t> uids;
      const auto largest =
          std::max<std::uint32_t>(s.messages.empty() ? 0 : s.messages.back().uid.value,
                                  gone->empty() ? 0 : gone->back().value);
      for (const auto uid : *gone) {
        if (set.contains(uid.value, largest)) uids.push_back(uid.value);
      }
      if (!uids.empty())
        earlier = "* VANISHED (EARLIER) " + wire::format_sequence_set(uids) + "\r\n";
    }
    auto targets = resolve(s.messages, set, by_uid);
    if (changed_since) {
      std::erase_if(targets,
                    [&](std::size_t i) { return s.messages[i].mod_seq.value <= *changed_since; });
    }
    // A non-PEEK body fetch sets \Seen (RFC 3501 §6.4.5), unless the mailbox is read-only.
    bool sets_seen = false;
    for (const auto& i : items) sets_seen = sets_seen || i.sets_seen;
    std::set<std::size_t> seen_now;
    if (sets_seen && !s.is_read_only) {
      std::vector<store::Uid> unseen;
      for (auto i : targets) {
        if (!(s.messages[i].flags.system & store::flag_seen)) unseen.push_back(s.messages[i].uid);
      }
      if (!unseen.empty()) {
        auto changed =
            settings_.store->store_flags(s.account.id, s.mailbox.id, unseen,
                                         store::Store::FlagChange::add, {store::flag_seen, {}});
        if (!changed) {
          work_.reply = wire::tagged(tag, no_for(changed.error()));
          return;
        }
        std::unordered_map<std::uint32_t, const store::MessageInfo*> by_uid_changed;
        for (const auto& c : *changed) by_uid_changed[c.uid.value] = &c;
        for (auto i : targets) {
          auto c = by_uid_changed.find(s.messages[i].uid.value);
          if (c == by_uid_changed.end()) continue;
          auto& mine = s.messages.edit()[i];
          mine.flags = c->second->flags;
          mine.mod_seq = c->second->mod_seq;
          seen_now.insert(i);
        }
      }
    }
    auto responder = std::make_shared<FetchResponder>(
        *settings_.store, s.account.id, s.mailbox.id, s.messages, std::move(targets), items,
        std::move(seen_now), wants_flags,
        wire::tagged(tag, std::string(by_uid ? "OK UID FETCH" : "OK FETCH") + " completed"),
        wire::tagged(tag, "NO [EXPUNGEISSUED] Some messages were expunged"));
    work_.reply = earlier;
    responder->next(work_.reply);
    if (responder->failed()) {
      stream_failed_ = true;
      return;
    }
    if (!responder->done()) {
      work_.stream = [this, responder](std::string& piece) {
        responder->next(piece);
        if (responder->failed()) {
          stream_failed_ = true;  // never a literal cut short: the connection closes
          piece.clear();
        }
      };
    }
  };
}

void Session::store_flags(const wire::Command& cmd, std::size_t first, net::Output& out,
                          bool by_uid) {
  const auto& args = cmd.arguments;
  if (args.size() < first + 3 || args[first].type != wire::Token::Type::atom) {
    return bad(cmd.tag, "Syntax: STORE sequence-set item flags", out);
  }
  auto set = message_set(args[first].value, by_uid);
  if (!set) return bad(cmd.tag, "Invalid sequence set", out);
  // RFC 7162 §3.1.3: STORE set (UNCHANGEDSINCE modseq) item flags.
  std::optional<std::uint64_t> unchanged_since;
  std::size_t at = first + 1;
  if (args[at].type == wire::Token::Type::list) {
    const auto& m = args[at];
    std::uint64_t n = 0;
    if (m.children.size() != 2 || !base::iequals(m.children[0].value, "UNCHANGEDSINCE") ||
        !parse_modseq(m.children[1].value, n)) {
      return bad(cmd.tag, "Syntax: STORE sequence-set (UNCHANGEDSINCE modseq) item flags", out);
    }
    unchanged_since = n;
    condstore_ = true;
    ++at;
  }
  if (args.size() < at + 2 || args[at].type != wire::Token::Type::atom) {
    return bad(cmd.tag, "Syntax: STORE sequence-set item flags", out);
  }
  auto item = base::to_upper(args[at].value);
  const bool silent = item.ends_with(".SILENT");
  if (silent) item.resize(item.size() - 7);
  store::Store::FlagChange change;
  if (item == "FLAGS")
    change = store::Store::FlagChange::replace;
  else if (item == "+FLAGS")
    change = store::Store::FlagChange::add;
  else if (item == "-FLAGS")
    change = store::Store::FlagChange::remove;
  else
    return bad(cmd.tag, "Unknown STORE item", out);
  store::Flags flags;
  std::vector<const wire::Token*> tokens;
  if (args[at + 1].type == wire::Token::Type::list && args.size() == at + 2) {
    for (const auto& t : args[at + 1].children) tokens.push_back(&t);
  } else {
    for (std::size_t i = at + 1; i < args.size(); ++i) tokens.push_back(&args[i]);
  }
  for (const auto* t : tokens) {
    if (t->type != wire::Token::Type::atom || !wire::add_flag(t->value, flags)) {
      return bad(cmd.tag, "Invalid flag", out);
    }
  }
  if (std::get<Selected>(state_).is_read_only) {
    out.bytes += wire::tagged(cmd.tag, "NO [READ-ONLY] Mailbox is read-only");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, set = *set, change, flags, silent, by_uid, unchanged_since] {
    auto& s = std::get<Selected>(state_);
    const auto targets = resolve(s.messages, set, by_uid);
    std::vector<store::Uid> uids;
    for (auto i : targets) uids.push_back(s.messages[i].uid);
    store::Store::ConditionalFlags result;
    if (unchanged_since) {
      auto r = settings_.store->store_flags_unchanged_since(
          s.account.id, s.mailbox.id, uids, change, flags, store::ModSeq(*unchanged_since));
      if (!r) {
        work_.reply = wire::tagged(tag, no_for(r.error()));
        return;
      }
      result = std::move(*r);
    } else {
      auto r = settings_.store->store_flags(s.account.id, s.mailbox.id, uids, change, flags);
      if (!r) {
        work_.reply = wire::tagged(tag, no_for(r.error()));
        return;
      }
      result.changed = std::move(*r);
    }
    std::string modified;  // RFC 7162 §3.1.3: what UNCHANGEDSINCE kept from changing
    std::unordered_map<std::uint32_t, const store::MessageInfo*> changed_by_uid;
    for (const auto& c : result.changed) changed_by_uid[c.uid.value] = &c;
    const std::unordered_set<std::uint32_t> kept = [&] {
      std::unordered_set<std::uint32_t> out;
      for (const auto uid : result.modified) out.insert(uid.value);
      return out;
    }();
    for (auto i : targets) {
      bool is_changed = false;
      if (auto c = changed_by_uid.find(s.messages[i].uid.value); c != changed_by_uid.end()) {
        auto& mine = s.messages.edit()[i];
        mine.flags = c->second->flags;
        mine.mod_seq = c->second->mod_seq;
        is_changed = true;
      }
      const auto& m = s.messages[i];
      if (kept.contains(m.uid.value)) {
        modified += (modified.empty() ? "" : ",") + std::to_string(by_uid ? m.uid.value : i + 1);
        continue;
      }
      // .SILENT leaves FLAGS out; with CONDSTORE the new MODSEQ is still told.
      if (silent && !(condstore_ && is_changed)) continue;
      std::string items = by_uid ? "UID " + std::to_string(m.uid.value) : std::string();
      if (!silent)
        items +=
            std::string(items.empty() ? "" : " ") + "FLAGS (" + wire::format_flags(m.flags) + ")";
      std::string modseq = modseq_item(m.mod_seq);
      if (!modseq.empty() && items.empty()) modseq.erase(0, 1);
      work_.reply += "* " + std::to_string(i + 1) + " FETCH (" + items + modseq + ")\r\n";
    }
    const std::string what = by_uid ? "UID STORE" : "STORE";
    work_.reply +=
        wire::tagged(tag, modified.empty() ? "OK " + what + " completed"
                                           : "OK [MODIFIED " + modified + "] Conditional " + what +
                                                 " failed for some messages");
  };
}

}  // namespace postino::imap
