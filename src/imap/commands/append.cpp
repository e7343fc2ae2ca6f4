// APPEND (RFC 3501 §6.3.11), COPY (§6.4.7) and MOVE (RFC 6851), also under UID.
#include <ctime>

#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/flags.hpp"
#include "imap/wire/response.hpp"
#include "imap/wire/sequence_set.hpp"

namespace postino::imap {
namespace {

// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
std::optional<store::SystemClock::time_point> parse_date_time(std::string_view s) {
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() == 25 && s[0] == ' ') s.remove_prefix(1);  // " 1-Jan-2026 …"
  if (s.size() != 26 && s.size() != 25) return std::nullopt;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0, zone = 0;
  char month[4] = {}, sign = 0;
  if (std::sscanf(std::string(s).c_str(), "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &day, month, &year,
                  &hour, &minute, &second, &sign, &zone) != 8) {
    return std::nullopt;
  }
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (base::iequals(month, months[i])) mon = i;
  }
  if (mon < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 ||
      (sign != '+' && sign != '-')) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const auto offset = (zone / 100 * 3600 + zone % 100 * 60) * (sign == '-' ? -1 : 1);
  return store::SystemClock::from_time_t(timegm(&tm) - offset);
}

}  // namespace

void Session::append(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  const auto& args = cmd.arguments;
  // The message: a literal, or (RFC 6855 §4, once UTF8=ACCEPT is on) UTF8 (literal8).
  const wire::Token* content = nullptr;
  std::size_t options_end = args.size() - 1;
  if (args.back().type == wire::Token::Type::literal) {
    content = &args.back();
  } else if (args.size() >= 3 && args.back().type == wire::Token::Type::list &&
             args.back().children.size() == 1 &&
             args.back().children[0].type == wire::Token::Type::literal &&
             args[args.size() - 2].type == wire::Token::Type::atom &&
             base::iequals(args[args.size() - 2].value, "UTF8")) {
    if (!utf8_accept_) return bad(cmd.tag, "APPEND UTF8 needs ENABLE UTF8=ACCEPT", out);
    content = &args.back().children[0];
    options_end = args.size() - 2;
  }
  if (args.size() < 2 || !content || options_end > 3) {
    return bad(cmd.tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal", out);
  }
  store::NewMessage message;
  for (std::size_t i = 1; i < options_end; ++i) {
    if (args[i].type == wire::Token::Type::list) {
      for (const auto& f : args[i].children) {
        if (f.type != wire::Token::Type::atom || !wire::add_flag(f.value, message.flags)) {
          return bad(cmd.tag, "Invalid flag", out);
        }
      }
    } else if (args[i].type == wire::Token::Type::quoted) {
      message.internal_date = parse_date_time(args[i].value);
      if (!message.internal_date) return bad(cmd.tag, "Invalid date-time", out);
    } else {
      return bad(cmd.tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal", out);
    }
  }
  // RFC 3516 §4.4: a literal8 may carry binary content; a message with NUL octets is not
  // stored (FETCH BODY[] could not return it in a literal), so it is refused as the RFC
  // asks of a server that keeps no binary content.
  if (content->is_literal8 && content->value.find('\0') != std::string::npos) {
    out.bytes += wire::tagged(cmd.tag, "NO [UNKNOWN-CTE] Binary content (NUL) is not stored");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, n = *name, message, bytes = content->value] {
    auto saved = settings_.store->append(account_id(), n, bytes, message);
    if (!saved) {
      // RFC 3501 §6.3.11: TRYCREATE tells the client the mailbox could be created.
      work_.reply = wire::tagged(tag, saved.error().kind == store::ErrorKind::not_found
                                          ? "NO [TRYCREATE] No such mailbox"
                                          : no_for(saved.error()));
      return;
    }
    if (std::holds_alternative<Selected>(state_)) refresh_selected();
    // RFC 4315 §3: the new message's UIDVALIDITY and UID.
    work_.reply +=
        wire::tagged(tag, "OK [APPENDUID " + std::to_string(saved->uid_validity.value) + " " +
                              std::to_string(saved->uid.value) + "] APPEND completed");
  };
}

void Session::copy(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid,
                   bool move) {
  const auto& args = cmd.arguments;
  if (args.size() != first + 2 || args[first].type != wire::Token::Type::atom) {
    return bad(cmd.tag,
               std::string("Syntax: ") + (move ? "MOVE" : "COPY") + " sequence-set mailbox", out);
  }
  auto set = message_set(args[first].value, by_uid);
  if (!set) return bad(cmd.tag, "Invalid sequence set", out);
  auto name = mailbox_argument(cmd, first + 1, out);
  if (!name) return;
  if (move && std::get<Selected>(state_).is_read_only) {
    out.bytes += wire::tagged(cmd.tag, "NO [READ-ONLY] Mailbox is read-only");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, set = *set, n = *name, by_uid, move] {
    auto& s = std::get<Selected>(state_);
    std::vector<store::Uid> uids;
    const auto largest = s.messages.empty() ? 0
                         : by_uid           ? s.messages.back().uid.value
                                            : static_cast<std::uint32_t>(s.messages.size());
    for (std::size_t i = 0; i < s.messages.size(); ++i) {
      const auto key = by_uid ? s.messages[i].uid.value : static_cast<std::uint32_t>(i + 1);
      if (set.contains(key, largest)) uids.push_back(s.messages[i].uid);
    }
    auto done = settings_.store->copy_messages(s.account.id, s.mailbox.id, uids, n, move);
    const std::string what = std::string(by_uid ? "UID " : "") + (move ? "MOVE" : "COPY");
    if (!done) {
      work_.reply = wire::tagged(tag, done.error().kind == store::ErrorKind::not_found
                                          ? "NO [TRYCREATE] No such mailbox"
                                          : no_for(done.error()));
      return;
    }
    // RFC 4315 §3: COPYUID names the source and destination UIDs, pair by pair; nothing
    // when nothing was copied. The destination's UIDVALIDITY is read after the copy: the
    // mailbox exists, and a UIDVALIDITY changes only when a mailbox is deleted and made anew.
    std::string copyuid;
    if (!done->empty()) {
      if (auto to = settings_.store->mailbox(s.account.id, n)) {
        std::vector<std::uint32_t> from_uids, to_uids;
        for (const auto& [a, b] : *done) {
          from_uids.push_back(a.value);
          to_uids.push_back(b.value);
        }
        copyuid = "[COPYUID " + std::to_string(to->uid_validity.value) + " " +
                  wire::format_sequence_set(from_uids) + " " + wire::format_sequence_set(to_uids) +
                  "] ";
      }
    }
    if (move) {
      // RFC 6851 §4.3: with UIDPLUS, COPYUID comes in an untagged OK before the EXPUNGEs,
      // which take the moved messages out of this session's view.
      if (!copyuid.empty()) work_.reply += "* OK " + copyuid + "Moved UIDs.\r\n";
      refresh_selected();
      work_.reply += wire::tagged(tag, "OK " + what + " completed");
      return;
    }
    work_.reply += wire::tagged(tag, "OK " + copyuid + what + " completed");
  };
}

}  // namespace postino::imap
