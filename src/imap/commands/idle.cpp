// IDLE (RFC 2177): the client waits and the server tells it of changes to the selected
// mailbox as they are committed (new mail, flags, expunges), until the client says DONE.
// The session subscribes to the store's change notifier; a notification wakes the
// connection (net::ProtocolSession::set_waker) and the view is brought up to date on the
// worker pool, exactly as NOOP does.
#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {

void Session::idle(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "IDLE takes no arguments", out);
  idle_tag_ = cmd.tag;
  auto* selected = std::get_if<Selected>(&state_);
  if (!selected) {
    out.bytes += "+ idling\r\n";
    return;
  }
  // Watch first, then look: a change committed in between is seen by one or the other.
  if (settings_.notifier && waker_) {
    watch_ = settings_.notifier->subscribe(selected->mailbox.id, waker_);
  }
  out.after = net::After::work;
  out.work = [this] {
    work_.reply += "+ idling\r\n";
    refresh_selected();
  };
}

void Session::idle_line(std::string_view line, net::Output& out) {
  const auto tag = *std::exchange(idle_tag_, std::nullopt);
  stop_watching();
  if (!base::iequals(line, "DONE")) return bad(tag, "Expected DONE to end IDLE", out);
  if (!std::holds_alternative<Selected>(state_)) {
    out.bytes += wire::tagged(tag, "OK IDLE terminated");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag] {
    refresh_selected();
    work_.reply += wire::tagged(tag, "OK IDLE terminated");
  };
}

net::Output Session::woken(std::string& input) {
  if (!idle_tag_ || !watch_ || !std::holds_alternative<Selected>(state_)) return receive(input);
  net::Output out;
  out.after = net::After::work;
  out.work = [this] { refresh_selected(); };
  return out;
}

void Session::stop_watching() {
  if (watch_ && settings_.notifier) settings_.notifier->unsubscribe(*watch_);
  watch_.reset();
}

}  // namespace postino::imap
