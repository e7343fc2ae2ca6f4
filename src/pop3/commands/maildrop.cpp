// The TRANSACTION and UPDATE states (RFC 1939 §5, §6): STAT, LIST, UIDL, RETR, TOP, DELE,
// RSET, QUIT. Message numbers count from 1 in the snapshot taken at login.
#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "base/dot_stuffer.hpp"
#include "pop3/session.hpp"

namespace postino::pop3 {
namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Session::MaildropMessage* Session::message(std::string_view arg, net::Output& out) {
  auto& t = std::get<Transaction>(state_);
  const auto n = number(arg);
  if (!n || *n == 0 || *n > t.messages.size()) {
    out.bytes += "-ERR No such message\r\n";
    return nullptr;
  }
  auto& m = t.messages[*n - 1];
  if (m.is_deleted) {
    out.bytes += "-ERR Message is deleted\r\n";
    return nullptr;
  }
  return &m;
}

void Session::transaction_command(const wire::Command& cmd, net::Output& out) {
  auto& t = std::get<Transaction>(state_);
  const auto& k = cmd.keyword;
  const auto& args = cmd.arguments;
  if (k == "STAT") {
    std::size_t count = 0;
    std::int64_t size = 0;
    for (const auto& m : t.messages) {
      if (!m.is_deleted) ++count, size += m.size;
    }
    out.bytes += "+OK " + std::to_string(count) + " " + std::to_string(size) + "\r\n";
    return;
  }
  if (k == "LIST" || k == "UIDL") {
    const bool uidl = k == "UIDL";
    if (args.size() > 1) {
      out.bytes += "-ERR Too many arguments\r\n";
      return;
    }
    if (args.size() == 1) {
      auto* m = message(args[0], out);
      if (m) {
        out.bytes += "+OK " + std::string(args[0]) + " " +
                     (uidl ? m->uidl : std::to_string(m->size)) + "\r\n";
      }
      return;
    }
    out.bytes += uidl ? "+OK Unique-ID listing follows\r\n" : "+OK Scan listing follows\r\n";
    for (std::size_t i = 0; i < t.messages.size(); ++i) {
      const auto& m = t.messages[i];
      if (m.is_deleted) continue;
      out.bytes += std::to_string(i + 1) + " " + (uidl ? m.uidl : std::to_string(m.size)) + "\r\n";
    }
    out.bytes += ".\r\n";
    return;
  }
  if (k == "RETR" || k == "TOP") {
    const std::size_t wanted = k == "RETR" ? 1 : 2;
    if (args.size() != wanted) {
      out.bytes += k == "RETR" ? "-ERR Syntax: RETR msg\r\n" : "-ERR Syntax: TOP msg lines\r\n";
      return;
    }
    std::optional<std::uint64_t> lines;
    if (k == "TOP") {
      lines = number(args[1]);
      if (!lines) {
        out.bytes += "-ERR Invalid number of lines\r\n";
        return;
      }
    }
    if (auto* m = message(args[0], out)) retrieve(*m, lines, out);
    return;
  }
  if (k == "DELE") {
    if (args.size() != 1) {
      out.bytes += "-ERR Syntax: DELE msg\r\n";
      return;
    }
    if (auto* m = message(args[0], out)) {
      m->is_deleted = true;  // RFC 1939 §5: only marked; removed at QUIT
      out.bytes += "+OK Marked to be deleted\r\n";
    }
    return;
  }
  if (k == "RSET") {
    for (auto& m : t.messages) m.is_deleted = false;
    out.bytes += "+OK\r\n";
    return;
  }
  if (k == "QUIT") return quit(out);
  out.bytes += "-ERR Command not valid in this state\r\n";
}

void Session::retrieve(MaildropMessage& m, std::optional<std::uint64_t> top_lines,
                       net::Output& out) {
  const auto uid = m.uid;
  const auto size = m.size;
  const auto position =
      static_cast<std::size_t>(&m - std::get<Transaction>(state_).messages.data());
  if (auto ahead = read_ahead_.find(uid.value); ahead != read_ahead_.end()) {
    // Read with an earlier command: answered here, without a trip to the worker pool.
    base::DotStuffer stuffer(top_lines);
    out.bytes += top_lines ? "+OK\r\n" : "+OK " + std::to_string(size) + " octets\r\n";
    stuffer.feed(ahead->second, out.bytes);
    out.bytes += stuffer.finish();
    read_ahead_.erase(ahead);
    return;
  }
  // The client went on past what was read ahead, in order: the next batch is larger. Out
  // of order, what was read ahead is not what comes next: it goes, and so does the growth.
  const bool went_on = read_ahead_.empty() && read_ahead_end_ == position;
  read_ahead_window_ = went_on ? std::min(read_ahead_window_ * 2, settings_.read_ahead_bytes)
                               : first_read_ahead_window(settings_.read_ahead_bytes);
  read_ahead_.clear();
  out.after = net::After::work;
  out.work = [this, uid, size, top_lines, position] {
    const auto& t = std::get<Transaction>(state_);
    auto reader = settings_.store->open_message(t.account.id, t.inbox, uid);
    if (!reader) {
      // Expunged by another session meanwhile, or the store failed.
      work_.reply = reader.error().kind == store::ErrorKind::not_found
                        ? "-ERR [SYS/PERM] Message was removed\r\n"
                        : "-ERR [SYS/TEMP] Message unavailable, try again later\r\n";
      return;
    }
    work_.reply = top_lines ? "+OK\r\n" : "+OK " + std::to_string(size) + " octets\r\n";
    auto source = std::shared_ptr<store::BlobReader>(std::move(*reader));
    auto stuffer = std::make_shared<base::DotStuffer>(top_lines);
    // Most messages are small: read whole here, they go out with the reply in one write
    // (each piece streamed costs a trip to a worker thread and back, which was most of a
    // small RETR's time). A large one goes out in pieces, dot-stuffed on the way: a 50 MB
    // message is never held whole.
    constexpr std::size_t inline_bytes = 256 * 1024;
    // As big as the message listed (and a byte, to see its end), not inline_bytes: a
    // fresh 256 KiB for each RETR was zeroed, and faulted in page by page, each time.
    std::string buffer(std::min(inline_bytes, static_cast<std::size_t>(size) + 1), '\0');
    std::size_t filled = 0;
    bool at_end = false;
    while (filled < buffer.size()) {
      auto n = source->read(buffer.data() + filled, buffer.size() - filled);
      if (!n) {
        work_.reply = "-ERR [SYS/TEMP] Message unavailable, try again later\r\n";
        return;
      }
      if (*n == 0) {
        at_end = true;
        break;
      }
      filled += *n;
    }
    stuffer->feed(std::string_view(buffer.data(), filled), work_.reply);
    if (at_end) {
      work_.reply += stuffer->finish();
      read_ahead(position);
      return;
    }
    auto finished = std::make_shared<bool>(false);
    // The bytes read for each piece, in one buffer for the whole message (as the piece
    // itself is, net::Output::Stream): not 64 KiB of fresh memory a piece.
    auto raw = std::make_shared<std::string>(64 * 1024, '\0');
    work_.stream = [this, source, stuffer, finished, raw](std::string& piece) {
      if (*finished) return;
      for (;;) {
        auto got = source->read(raw->data(), raw->size());
        if (!got) {
          // Never a silently truncated message: the connection is closed instead.
          *finished = true;
          stream_failed_ = true;
          return;
        }
        if (*got == 0) {
          *finished = true;
          piece += stuffer->finish();
          return;
        }
        stuffer->feed(std::string_view(raw->data(), *got), piece);
        if (!piece.empty()) return;  // TOP may leave a piece empty: read on
      }
    };
  };
}

void Session::read_ahead(std::size_t after) {
  const auto& t = std::get<Transaction>(state_);
  std::size_t budget = read_ahead_window_;
  std::vector<store::Uid> wanted;
  std::unordered_map<std::uint32_t, std::size_t> listed;  // UID → size at login
  auto i = after + 1;
  for (; i < t.messages.size(); ++i) {
    const auto& next = t.messages[i];
    if (next.is_deleted) continue;
    const auto size = static_cast<std::size_t>(next.size);
    if (size > budget) break;
    budget -= size;
    wanted.push_back(next.uid);
    listed.emplace(next.uid.value, size);
  }
  read_ahead_end_ = i;
  if (wanted.empty()) return;
  auto read = settings_.store->read_messages(t.account.id, t.inbox, wanted);
  if (!read) return;  // each RETR will say what is wrong
  for (auto& [uid, bytes] : *read) {
    // A body of another size than listed is left to its own RETR.
    if (bytes.size() != listed[uid.value]) break;
    read_ahead_.emplace(uid.value, std::move(bytes));
  }
}

void Session::quit(net::Output& out) {
  std::vector<store::Uid> doomed;
  for (const auto& m : std::get<Transaction>(state_).messages) {
    if (m.is_deleted) doomed.push_back(m.uid);
  }
  if (doomed.empty()) {
    out.bytes += "+OK Postino signing off\r\n";
    out.after = net::After::close;
    return;
  }
  // RFC 1939 §6: the UPDATE state removes the marked messages, durably, then closes.
  out.after = net::After::work;
  out.work = [this, doomed = std::move(doomed)] {
    const auto& t = std::get<Transaction>(state_);
    auto removed =
        settings_.store->expunge(t.account.id, t.inbox, doomed, store::Store::ExpungeScope::listed);
    work_.reply = removed ? "+OK Postino signing off (" + std::to_string(removed->size()) +
                                " messages deleted)\r\n"
                          : "-ERR [SYS/TEMP] Some deleted messages were not removed\r\n";
    work_.closes = true;
  };
}

}  // namespace postino::pop3
