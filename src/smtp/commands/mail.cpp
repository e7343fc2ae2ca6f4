// MAIL FROM (RFC 5321 §4.1.1.2) with SIZE, BODY, SMTPUTF8, RET, ENVID and AUTH; on
// submission the sender must be the user's own address (RFC 6409 §6.1).
#include "base/log.hpp"
#include "smtp/session.hpp"
#include "smtp/wire/reply.hpp"
#include "store/names.hpp"

namespace postino::smtp {

void Session::mail(const wire::Command& cmd, net::Output& out) {
  if (std::holds_alternative<Greeted>(state_)) return error(reply::c503_send_helo_first, out);
  if (transaction_) return error(reply::c503_nested_mail, out);
  if (settings_.is_submission && !account_) {
    return error(is_tls_ ? reply::c530_auth_required : reply::c530_starttls_first, out);
  }
  auto parsed = wire::parse_mail_from(cmd.argument);
  if (auto* e = std::get_if<wire::EnvelopeError>(&parsed)) return error(e->reply, out);
  auto& mail = std::get<wire::MailFrom>(parsed);
  if (mail.size && *mail.size > settings_.max_message_bytes) {
    return error(reply::c552_size_exceeds_limit, out);
  }
  // RELIABILITY F01: refuse before the transfer when the disk could not hold the message.
  if (auto free = settings_.store->free_bytes();
      free && *free < settings_.max_message_bytes + settings_.max_message_bytes / 2) {
    return error(reply::c452_no_space, out);
  }
  if (!account_) {
    transaction_ = Transaction{.mail = std::move(mail)};
    out.bytes += reply::line(reply::c250_sender_ok);
    return;
  }
  // Submission: the user's own address, or an address that delivers to the user (an
  // alias or a "+tag" form), found through the store.
  if (!mail.sender) return error(reply::c553_null_sender, out);
  // The sending limit users are told about (messages per hour).
  if (settings_.sending_limiter && !settings_.sending_limiter->may_send(account_->address)) {
    return error(reply::c451_sending_limit, out);
  }
  const auto sender = mail.sender->str();
  auto parts = store::parse_address(sender);
  if (parts && parts->str() == account_->address) {
    transaction_ = Transaction{.mail = std::move(mail)};
    out.bytes += reply::line(reply::c250_sender_ok);
    return;
  }
  out.after = net::After::work;
  out.work = [this, mail = std::move(mail), sender] {
    bool owned = false;
    if (auto r = settings_.store->resolve(sender)) {
      for (const auto& a : r->local_accounts) owned = owned || a == account_->address;
    }
    if (owned) {
      transaction_ = Transaction{.mail = mail};
      work_.reply = reply::line(reply::c250_sender_ok);
    } else {
      base::log::warn(client_.session_id, "sender_rejected",
                      {{"sender", sender}, {"login", account_->address}});
      work_.reply = reply::with(reply::c553_sender_not_owned, sender);
      work_error_ = true;
    }
  };
}

}  // namespace postino::smtp
