// SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2), CLOSE (§6.4.2), UNSELECT (RFC 3691),
// CHECK (§6.4.1), EXPUNGE (§6.4.3) and the UID prefix (§6.4.8), with the selected view
// kept in step with the store at NOOP and CHECK.
#include <algorithm>
#include <charconv>
#include <map>

#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/flags.hpp"
#include "imap/wire/response.hpp"
#include "store/names.hpp"
#include "store/no_wait.hpp"

namespace postino::imap {

std::optional<Session::Resync> Session::parse_resync(const std::vector<wire::Token>& q) {
  if (q.size() < 2 || q.size() > 3) return std::nullopt;
  auto number = [](const std::string& text, auto& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
  };
  Resync r;
  if (!number(q[0].value, r.uid_validity) || r.uid_validity == 0) return std::nullopt;
  if (!number(q[1].value, r.modseq)) return std::nullopt;
  if (q.size() == 3) {
    r.known = wire::SequenceSet::parse(q[2].value);
    if (!r.known) return std::nullopt;
  }
  return r;
}

void Session::select(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  // RFC 7162 §3.1.8 and §3.2.5: SELECT mailbox (CONDSTORE) or
  // SELECT mailbox (QRESYNC (uidvalidity modseq [known-uids])).
  std::optional<Resync> resync;
  if (cmd.arguments.size() == 2) {
    const auto& p = cmd.arguments[1];
    const auto syntax = "Syntax: " + cmd.name +
                        " mailbox [(CONDSTORE) | (QRESYNC (uidvalidity modseq [known-uids]))]";
    if (p.type != wire::Token::Type::list || p.children.empty()) return bad(cmd.tag, syntax, out);
    if (p.children.size() == 1 && base::iequals(p.children[0].value, "CONDSTORE")) {
      condstore_ = true;
    } else if (p.children.size() == 2 && base::iequals(p.children[0].value, "QRESYNC") &&
               p.children[1].type == wire::Token::Type::list) {
      if (!qresync_) return bad(cmd.tag, "QRESYNC needs ENABLE QRESYNC first", out);
      resync = parse_resync(p.children[1].children);
      if (!resync) return bad(cmd.tag, syntax, out);
    } else {
      return bad(cmd.tag, syntax, out);
    }
  } else if (cmd.arguments.size() != 1) {
    return bad(cmd.tag, "Syntax: " + cmd.name + " mailbox", out);
  }
  // RFC 7162 §3.2.11: with CONDSTORE or QRESYNC on, leaving a mailbox says so.
  const bool was_selected = std::holds_alternative<Selected>(state_);
  const bool read_only = cmd.name == "EXAMINE";
  // RFC 3501 §6.3.1: a SELECT leaves any selected mailbox first, even if it fails.
  store::Account account = std::holds_alternative<Selected>(state_)
                               ? std::get<Selected>(state_).account
                               : std::get<Authenticated>(state_).account;
  state_ = Authenticated{account};
  // RFC 9051 §7.1: IMAP4rev2 always says so too.
  if (was_selected && (condstore_ || rev2_))
    out.bytes += "* OK [CLOSED] Previous mailbox closed\r\n";
  SelectRequest request{cmd.tag, *name, read_only, account, std::move(resync)};
  // Answered here, on the session's loop, when what the answer reads is in memory: a trip
  // to a worker thread and back costs more than the read (store/no_wait.hpp). Tried only
  // for a mailbox selected lately: otherwise its pages are likely on the disk, and an
  // attempt that fails costs more than it saves (the first after a start runs the error
  // path's code for the first time, whose pages may be on the disk too: 3 ms measured).
  // The cache knows mailboxes by their stored names: "inbox" is held as "INBOX".
  const auto stored_name = store::canonical_mailbox_name(request.name, {});
  if (!request.resync && stored_name && settings_.views->holds(account.id, *stored_name)) {
    auto summary = [&] {
      const store::NoWaitScope no_wait;
      return settings_.store->mailbox_summary(account.id, request.name);
    }();
    if (summary || summary.error().kind != store::ErrorKind::would_block) {
      answer_select(std::move(summary), request);
      auto answered = work_.take();
      out.bytes += answered.bytes;
      out.stream = std::move(answered.stream);
      out.after = answered.after;
      return;
    }
  }
  out.after = net::After::work;
  out.work = [this, request = std::move(request)] {
    answer_select(settings_.store->mailbox_summary(request.account.id, request.name), request);
  };
}

// The answer comes from the mailbox's counts, its keywords and its first unseen message,
// as Dovecot's comes from its index header: a big mailbox's list (100,000 messages, most
// of a cold SELECT) is read once the answer is on its way.
void Session::answer_select(store::Result<store::MailboxSummary> summary,
                            const SelectRequest& request) {
  const auto& tag = request.tag;
  const auto& account = request.account;
  const auto& resync = request.resync;
  const bool read_only = request.read_only;
  if (!summary) {
    work_.reply = wire::tagged(tag, no_for(summary.error()));
    return;
  }
  const auto& box = summary->mailbox;
  std::string flags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
  for (const auto& k : summary->keywords) flags += " " + k;
  std::string r = "* FLAGS (" + flags + ")\r\n";
  r += read_only ? std::string("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
                 : "* OK [PERMANENTFLAGS (" + flags + " \\*)] Flags permitted\r\n";
  r += "* " + std::to_string(box.messages) + " EXISTS\r\n";
  if (rev2_) {
    // RFC 9051 §6.3.2: no RECENT or UNSEEN; the mailbox's LIST, its name as stored.
    r += "* LIST () \"/\" " + name_to_wire(box.name) + "\r\n";
  } else {
    r += "* 0 RECENT\r\n";
    if (summary->first_unseen)
      r += "* OK [UNSEEN " + std::to_string(summary->first_unseen) + "] First unseen\r\n";
  }
  r += "* OK [UIDVALIDITY " + std::to_string(box.uid_validity.value) + "] UIDs valid\r\n";
  r += "* OK [UIDNEXT " + std::to_string(box.uid_next.value) + "] Predicted next UID\r\n";
  if (condstore_) {
    r += "* OK [HIGHESTMODSEQ " + std::to_string(box.highest_mod_seq.value) + "] Highest\r\n";
  }
  const auto completed =
      wire::tagged(tag, std::string(read_only ? "OK [READ-ONLY] " : "OK [READ-WRITE] ") +
                            (read_only ? "EXAMINE" : "SELECT") + " completed");
  if (!resync || resync->uid_validity != box.uid_validity.value) {
    work_.reply = std::move(r) + completed;
    // A stream that writes nothing: the list is read after the answer is sent, and the
    // next command waits for it.
    work_.stream = [this, account, told = box, read_only,
                    failed = false](std::string& piece) mutable {
      if (failed) {
        stream_failed_ = true;
        return;
      }
      auto list = list_as_told(account, told);
      if (!list) {
        failed = true;
        piece = "* BYE [UNAVAILABLE] The mailbox could not be read; select it again\r\n";
        return;
      }
      state_ = Selected{account, told, read_only, std::move(*list), {}};
    };
    return;
  }
  // QRESYNC (RFC 7162 §3.2.5): what the client missed since its modseq, which needs the list.
  auto list = list_as_told(account, box);
  if (!list) {
    work_.reply = wire::tagged(tag, "NO [UNAVAILABLE] The mailbox could not be read");
    return;
  }
  auto gone = settings_.store->expunged_since(account.id, box.id, store::ModSeq(resync->modseq));
  if (!gone) {
    work_.reply = wire::tagged(tag, no_for(gone.error()));
    return;
  }
  const auto vanished = vanished_earlier(*gone, *list, resync->known);
  if (!vanished.empty())
    r += "* VANISHED (EARLIER) " + wire::format_sequence_set(vanished) + "\r\n";
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& m = (*list)[i];
    if (m.mod_seq.value <= resync->modseq) continue;
    r += "* " + std::to_string(i + 1) + " FETCH (UID " + std::to_string(m.uid.value) + " FLAGS (" +
         wire::format_flags(m.flags) + ") MODSEQ (" + std::to_string(m.mod_seq.value) + "))\r\n";
  }
  work_.reply = std::move(r) + completed;
  state_ = Selected{account, box, read_only, std::move(*list), {}};
}

// The selected mailbox's list as SELECT told it (`told`), from the view cache or the store,
// read since: what changed in between is left for the next poll to announce.
std::optional<MessageView> Session::list_as_told(const store::Account& account,
                                                 const store::MailboxInfo& told) {
  auto view = settings_.views->current(*settings_.store, account.id, told.id);
  if (!view) return std::nullopt;
  // Unchanged since: the list as read (MailboxViews checks it adds up to the count).
  if (view->mailbox.uid_validity == told.uid_validity &&
      view->mailbox.highest_mod_seq == told.highest_mod_seq) {
    return MessageView(view->messages);
  }
  auto gone = settings_.store->expunged_since(account.id, told.id, told.highest_mod_seq);
  if (!gone) return std::nullopt;
  auto list = list_as_of(told, view->mailbox, *view->messages, *gone);
  if (!list) return std::nullopt;
  return MessageView(std::make_shared<std::vector<store::MessageInfo>>(std::move(*list)));
}

void Session::close(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, cmd.name + " takes no arguments", out);
  auto selected = std::get<Selected>(state_);
  state_ = Authenticated{selected.account};
  if (cmd.name == "UNSELECT" || selected.is_read_only) {
    out.bytes += wire::tagged(cmd.tag, "OK " + cmd.name + " completed");
    return;
  }
  // RFC 3501 §6.4.2: CLOSE removes \Deleted messages without untagged EXPUNGE responses.
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, account = selected.account.id, box = selected.mailbox.id] {
    auto r =
        settings_.store->expunge(account, box, std::nullopt, store::Store::ExpungeScope::deleted);
    work_.reply = wire::tagged(tag, r ? "OK CLOSE completed" : no_for(r.error()));
  };
}

void Session::check(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "CHECK takes no arguments", out);
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag] {
    refresh_selected();
    work_.reply += wire::tagged(tag, "OK CHECK completed");
  };
}

void Session::expunge(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "EXPUNGE takes no arguments", out);
  expunge_messages(cmd.tag, std::nullopt, "EXPUNGE", out);
}

// UID EXPUNGE (RFC 4315 §2.1): only the \Deleted messages whose UIDs are in the set.
void Session::uid_expunge(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.size() != 2 || cmd.arguments[1].type != wire::Token::Type::atom)
    return bad(cmd.tag, "Syntax: UID EXPUNGE uid-set", out);
  auto set = message_set(cmd.arguments[1].value, true);
  if (!set) return bad(cmd.tag, "Invalid sequence set", out);
  expunge_messages(cmd.tag, *set, "UID EXPUNGE", out);
}

void Session::expunge_messages(const std::string& tag, std::optional<wire::SequenceSet> uid_set,
                               std::string what, net::Output& out) {
  if (std::get<Selected>(state_).is_read_only) {
    out.bytes += wire::tagged(tag, "NO [READ-ONLY] Mailbox is read-only");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag, uid_set = std::move(uid_set), what = std::move(what)] {
    const auto& s = std::get<Selected>(state_);
    std::optional<std::vector<store::Uid>> uids;
    if (uid_set) {
      // Only UIDs this session knows of: a message delivered since it last looked cannot
      // be flagged \Deleted by this client, and its EXPUNGE would come before its EXISTS.
      uids.emplace();
      const auto largest = s.messages.empty() ? 0 : s.messages.back().uid.value;
      for (const auto& m : s.messages) {
        if (uid_set->contains(m.uid.value, largest)) uids->push_back(m.uid);
      }
    }
    auto r = settings_.store->expunge(s.account.id, s.mailbox.id, uids,
                                      store::Store::ExpungeScope::deleted);
    if (!r) {
      work_.reply = wire::tagged(tag, no_for(r.error()));
      return;
    }
    refresh_selected();
    work_.reply += wire::tagged(tag, "OK " + what + " completed");
  };
}

void Session::refresh_selected() {
  auto& s = std::get<Selected>(state_);
  auto changes =
      settings_.store->changes_since(s.account.id, s.mailbox.id, s.mailbox.highest_mod_seq);
  if (!changes) return;  // tell nothing now; the next poll tries again
  if (changes->mailbox.uid_validity != s.mailbox.uid_validity) {
    // Deleted and created again under the same id: every message this session knew is
    // gone, and the new mailbox's are new.
    auto all = settings_.store->changes_since(s.account.id, s.mailbox.id, store::ModSeq(0));
    if (!all) return;
    changes->expunged.clear();
    for (const auto& m : s.messages) changes->expunged.push_back(m.uid);
    changes->changed = std::move(all->changed);
    changes->mailbox = all->mailbox;
  }
  const auto position = [&](store::Uid uid) -> std::optional<std::size_t> {
    auto at = std::lower_bound(s.messages.begin(), s.messages.end(), uid,
                               [](const store::MessageInfo& m, store::Uid u) { return m.uid < u; });
    if (at == s.messages.end() || at->uid != uid) return std::nullopt;
    return static_cast<std::size_t>(at - s.messages.begin());
  };
  // Expunged messages, highest sequence number first so that each number is still right
  // when the client reads it (RFC 3501 §7.4.1); with QRESYNC one VANISHED for all of them
  // (RFC 7162 §3.2.10).
  std::vector<std::size_t> doomed;
  for (const auto uid : changes->expunged) {
    if (auto i = position(uid)) doomed.push_back(*i);
  }
  std::sort(doomed.begin(), doomed.end());
  doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
  if (!doomed.empty()) {
    std::vector<std::uint32_t> vanished;
    for (auto i = doomed.rbegin(); i != doomed.rend(); ++i) {
      if (qresync_) {
        vanished.push_back(s.messages[*i].uid.value);
      } else {
        work_.reply += "* " + std::to_string(*i + 1) + " EXPUNGE\r\n";
      }
    }
    if (!vanished.empty()) {
      std::reverse(vanished.begin(), vanished.end());
      work_.reply += "* VANISHED " + wire::format_sequence_set(vanished) + "\r\n";
    }
    auto& list = s.messages.edit();
    std::size_t next = 0, kept = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (next < doomed.size() && doomed[next] == i) {
        ++next;
        continue;
      }
      if (kept != i) list[kept] = std::move(list[i]);
      ++kept;
    }
    list.resize(kept);
  }
  // Changed flags, then the new messages (RFC 3501 §7.3.1: EXISTS once, with the count).
  const auto before = s.messages.size();
  const std::uint32_t last_uid = s.messages.empty() ? 0 : s.messages.back().uid.value;
  for (const auto& m : changes->changed) {
    if (m.uid.value > last_uid) {
      s.messages.edit().push_back(m);
      continue;
    }
    const auto i = position(m.uid);
    if (!i) continue;  // expunged before this session knew of it
    const auto& known = s.messages[*i];
    if (known.flags == m.flags && known.mod_seq == m.mod_seq) continue;
    const bool flags_changed = !(known.flags == m.flags);
    auto& mine = s.messages.edit()[*i];
    mine.mod_seq = m.mod_seq;
    if (flags_changed) {
      mine.flags = m.flags;
      work_.reply += "* " + std::to_string(*i + 1) + " FETCH (FLAGS (" +
                     wire::format_flags(m.flags) + ")" + modseq_item(m.mod_seq) + ")\r\n";
    }
  }
  if (s.messages.size() != before)
    work_.reply += "* " + std::to_string(s.messages.size()) + " EXISTS\r\n";
  s.mailbox = changes->mailbox;
}

void Session::uid(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.empty() || cmd.arguments[0].type != wire::Token::Type::atom) {
    return bad(cmd.tag, "Syntax: UID command arguments", out);
  }
  const auto what = base::to_upper(cmd.arguments[0].value);
  if (what == "FETCH") return fetch(cmd, 1, out, true);
  if (what == "STORE") return store_flags(cmd, 1, out, true);
  if (what == "COPY") return copy(cmd, 1, out, true, false);
  if (what == "SEARCH") return search(cmd, 1, out, true);
  if (what == "MOVE") return copy(cmd, 1, out, true, true);
  if (what == "EXPUNGE") return uid_expunge(cmd, out);
  if (what == "SORT") return sort(cmd, 1, out, true);
  if (what == "THREAD") return thread(cmd, 1, out, true);
  bad(cmd.tag, "UID " + what + " not implemented", out);
}

}  // namespace postino::imap
