// RCPT TO (RFC 5321 §4.1.1.3): recipients are resolved at once (aliases, catch-all,
// sub-addressing), unknown local users refused here rather than bounced later
// (RELIABILITY R02), relaying only for authenticated users (R01).
#include "base/ascii.hpp"
#include "base/log.hpp"
#include "smtp/session.hpp"
#include "smtp/wire/reply.hpp"
#include "store/no_wait.hpp"

namespace postino::smtp {
void Session::rcpt(const wire::Command& cmd, net::Output& out) {
  if (!transaction_) return error(reply::c503_need_mail, out);
  auto parsed = wire::parse_rcpt_to(cmd.argument);
  if (auto* e = std::get_if<wire::EnvelopeError>(&parsed)) return error(e->reply, out);
  auto& rcpt = std::get<wire::RcptTo>(parsed);
  // RFC 5321 §4.5.3.1.8: past the limit, 452 (the client sends the rest later). A client
  // that pipelined its whole list is not cut off for it: only past the overshoot limit do
  // they count as errors (Postfix smtpd_recipient_overshoot_limit), else a list a little
  // longer than the limit would end in 421 and never get through.
  if (transaction_->recipients.size() >= settings_.max_recipients) {
    if (++transaction_->overshoot > settings_.recipient_overshoot_limit) {
      return error(reply::c452_too_many_recipients, out);
    }
    count_error(reply::c452_too_many_recipients);
    out.bytes += reply::line(reply::c452_too_many_recipients);
    return;
  }
  // The answer, left in work_. It only reads until it is known: inside a NoWaitScope a
  // read that would wait makes it return false before it has changed anything.
  auto answer = [this, rcpt = std::move(rcpt)]() mutable {
    auto& store = *settings_.store;
    const auto blocked = [](const store::Error& e) {
      return e.kind == store::ErrorKind::would_block;
    };
    const auto shown = rcpt.recipient.str();
    Recipient recipient{rcpt, {}, false};
    auto reject = [&](std::string line) {
      work_.reply = std::move(line);
      work_error_ = true;
    };
    std::string address = shown;
    if (rcpt.recipient.domain.empty()) {
      // RFC 5321 §4.1.1.3: <Postmaster> with no domain, for our first domain.
      auto domains = store.list_domains();
      if (!domains && blocked(domains.error())) return false;
      if (!domains || domains->empty()) {
        reject(reply::with(reply::c550_unknown_user, shown));
        return true;
      }
      address = "postmaster@" + domains->front();
    }
    const auto domain = address.substr(address.rfind('@') + 1);
    auto local = store.is_local_domain(domain);
    if (!local && blocked(local.error())) return false;
    if (!local) {
      reject(reply::line(reply::c451_local_error));
      return true;
    }
    if (!*local) {
      if (!account_) {
        base::log::info(client_.session_id, "relay_denied", {{"rcpt", shown}});
        reject(reply::with(reply::c554_relay_denied, shown));
        return true;
      }
      recipient.is_remote = true;
    } else {
      if (settings_.is_dev) {
        const auto& part = rcpt.recipient.local;
        if (base::iequals(part, "tempfail")) {
          reject(reply::with(reply::c451_dev_tempfail, shown));
          return true;
        }
        if (base::iequals(part, "permfail")) {
          reject(reply::with(reply::c550_dev_permfail, shown));
          return true;
        }
        if (base::iequals(part, "timeout")) return true;  // no answer: the client times out
      }
      auto resolved = store.resolve(address);
      if (!resolved && blocked(resolved.error())) return false;
      if (!resolved) {
        if (resolved.error().kind == store::ErrorKind::not_found ||
            resolved.error().kind == store::ErrorKind::invalid) {
          base::log::info(client_.session_id, "recipient_unknown", {{"rcpt", shown}});
          reject(reply::with(reply::c550_unknown_user, shown));
        } else {
          reject(reply::line(reply::c451_local_error));
        }
        return true;
      }
      recipient.local_accounts = std::move(resolved->local_accounts);
      // Forwarding aliases to other domains are relayed like submitted mail.
      for (auto& remote : resolved->remote) {
        Recipient forward{rcpt, {}, true};
        forward.rcpt.recipient.local = remote.substr(0, remote.rfind('@'));
        forward.rcpt.recipient.domain = remote.substr(remote.rfind('@') + 1);
        forward.rcpt.recipient.is_quoted = false;
        transaction_->recipients.push_back(std::move(forward));
      }
    }
    transaction_->recipients.push_back(std::move(recipient));
    work_.reply = reply::line(reply::c250_recipient_ok);
    return true;
  };
  // Answered here, on the session's loop, when the store answers from memory (nearly
  // always: the domains and accounts are a few hot pages), as SELECT is in IMAP: a trip to
  // a worker and back cost more than the reads (store/no_wait.hpp). Else on a worker.
  bool answered = false;
  {
    const store::NoWaitScope no_wait;
    answered = answer();
  }
  if (answered) {
    auto done = take_work();
    out.bytes += done.bytes;
    out.after = done.after;
    return;
  }
  out.after = net::After::work;
  out.work = [answer = std::move(answer)]() mutable { answer(); };
}

}  // namespace postino::smtp
