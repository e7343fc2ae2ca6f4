// DATA (RFC 5321 §4.1.1.4), BDAT (RFC 3030) and the commit of an accepted message: trace
// headers, loop guard, Bcc removal on submission, then one store transaction for the
// local copies and the queue entry. The 250 comes only after that commit is durable.
#include <charconv>
#include <set>

#include "base/log.hpp"
#include "base/metrics.hpp"
#include "smtp/session.hpp"
#include "smtp/trace.hpp"
#include "smtp/wire/reply.hpp"

namespace postino::smtp {

void Session::data(const wire::Command& cmd, net::Output& out, bool more_input_waiting) {
  if (!cmd.argument.empty()) return error(reply::c501_no_arguments, out);
  if (!transaction_) return error(reply::c503_need_mail, out);
  if (transaction_->used_bdat) return error(reply::c503_bdat_after_data, out);
  if (transaction_->recipients.empty()) return error(reply::c554_no_valid_recipients, out);
  // RFC 2920 §3.1: DATA ends a pipelined group; text sent before our 354 on port 25 is a
  // client that does not wait (Postfix smtpd_forbid_unauth_pipelining, RELIABILITY S04).
  if (more_input_waiting && !account_ && !settings_.is_submission) {
    base::log::warn(client_.session_id, "pipelining_violation");
    out.bytes += reply::line(reply::c554_pipelining);
    out.after = net::After::close;
    return;
  }
  out.bytes += reply::line(reply::c354_start_data);
  reader_ = ReadingData{wire::DataReader(settings_.max_message_bytes)};
}

void Session::bdat(const wire::Command& cmd, net::Output& out) {
  // "BDAT size [LAST]"; a size that is not a plain number cannot be skipped safely, so
  // the reply is 501 and the client is out of step (RFC 3030 §2).
  std::string_view arg = cmd.argument;
  const auto space = arg.find(' ');
  const auto size_text = arg.substr(0, space);
  bool is_last = false;
  if (space != std::string_view::npos) {
    auto rest = arg.substr(space + 1);
    if (rest.size() != 4 || (rest[0] != 'L' && rest[0] != 'l') ||
        (rest.substr(1) != "AST" && rest.substr(1) != "ast")) {
      return error(reply::c501_bdat_syntax, out);
    }
    is_last = true;
  }
  std::uint64_t size = 0;
  auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (size_text.empty() || size_text.size() > 20 || ec != std::errc{} ||
      end != size_text.data() + size_text.size()) {
    return error(reply::c501_bdat_syntax, out);
  }
  if (transaction_) transaction_->used_bdat = true;
  reader_ = ReadingBdat{size, is_last};
}

void Session::finish_message(std::string message, bool saw_bare_lf, bool too_big,
                             net::Output& out) {
  auto transaction = std::move(*transaction_);
  reset_transaction();
  if (too_big) return error(reply::c552_too_big, out);
  if (saw_bare_lf && settings_.bare_lf == BareLfPolicy::reject)
    return error(reply::c550_bare_lf, out);
  // RFC 5321 §6.3: a message that went round too often is refused, not passed on.
  if (count_received(message) > settings_.max_received_headers) {
    return error(reply::c554_too_many_hops, out);
  }
  // RFC 6409 §8.1 / Postfix cleanup(8): blind copies are not shown to the recipients, and
  // a submitted message carries no Return-Path (RFC 5321 §4.4: the final delivery adds it).
  if (account_) message = remove_header_fields(message, {"Bcc", "Resent-Bcc", "Return-Path"});

  const std::string id = client_.session_id + "." + std::to_string(++messages_accepted_);
  std::vector<std::string> local_addresses;
  store::NewQueueEntry remote;
  std::set<std::string> seen;
  for (const auto& r : transaction.recipients) {
    if (r.is_remote) {
      const auto address = r.rcpt.recipient.str();
      if (!seen.insert("remote:" + address).second) continue;
      std::uint32_t notify = 0;
      if (r.rcpt.notify.never) notify |= 1;
      if (r.rcpt.notify.success) notify |= 2;
      if (r.rcpt.notify.failure) notify |= 4;
      if (r.rcpt.notify.delay) notify |= 8;
      remote.recipients.push_back(
          {address, r.rcpt.orcpt_type.empty() ? "" : r.rcpt.orcpt_type + ";" + r.rcpt.orcpt_address,
           notify});
    }
    for (const auto& a : r.local_accounts) {
      if (seen.insert("local:" + a).second) local_addresses.push_back(a);
    }
  }
  const auto& mail = transaction.mail;
  const std::string sender = mail.sender ? mail.sender->str() : "";
  remote.sender = sender;
  remote.envid = mail.envid;
  remote.ret = mail.ret == wire::Ret::full ? 1 : mail.ret == wire::Ret::headers ? 2 : 0;

  TraceInfo trace;
  const auto& ready = std::get<Ready>(state_);
  trace.helo = ready.helo_name;
  trace.is_esmtp = ready.is_esmtp;
  trace.client_address = client_.address;
  trace.hostname = settings_.hostname;
  trace.is_tls = is_tls_;
  trace.tls_version = tls_.version;
  trace.tls_cipher = tls_.cipher;
  trace.is_authenticated = account_.has_value();
  trace.queue_id = id;
  if (transaction.recipients.size() == 1)
    trace.recipient = transaction.recipients[0].rcpt.recipient.str();
  trace.when = std::chrono::system_clock::now();
  const std::string received = received_header(trace);

  auto acceptance = std::make_shared<store::Acceptance>();
  acceptance->id = id;
  // Final delivery: ours is the only Return-Path (RFC 5321 §4.4 lets the delivering server
  // remove those the message came with; a relay must not, so the remote copy keeps them).
  acceptance->local_message = "Return-Path: <" + sender + ">\r\n" + received;
  acceptance->local_message.reserve(acceptance->local_message.size() + message.size());
  append_without_fields(acceptance->local_message, message, {"Return-Path"});
  if (!remote.recipients.empty()) {
    acceptance->remote = std::move(remote);
    acceptance->remote_message = received + message;
  }
  const auto rcpt_count = transaction.recipients.size();
  out.after = net::After::work;
  out.work = [this, acceptance, local_addresses, id, sender, rcpt_count,
              began = std::chrono::steady_clock::now()] {
    auto& store = *settings_.store;
    for (const auto& address : local_addresses) {
      auto account = store.find_account(address);
      if (!account) {
        work_.reply = reply::line(reply::c451_local_error);
        work_error_ = true;
        return;
      }
      acceptance->local_accounts.push_back(account->id);
    }
    auto accepted = store.accept(*acceptance);
    if (!accepted) {
      const auto kind = accepted.error().kind;
      base::log::error(client_.session_id, "accept_failed",
                       {{"id", id}, {"error", accepted.error().detail}});
      work_.reply = reply::line(kind == store::ErrorKind::over_quota ? reply::c452_mailbox_full
                                : kind == store::ErrorKind::no_space ? reply::c452_no_space
                                                                     : reply::c451_local_error);
      work_error_ = true;
      return;
    }
    // Postfix-style: the queue id on every line of the message's life (`postino trace`).
    base::log::info(client_.session_id, "accepted",
                    {{"queue_id", id},
                     {"from", "<" + sender + ">"},
                     {"nrcpt", std::to_string(rcpt_count)},
                     {"size", std::to_string(acceptance->local_message.size())}});
    const auto delay = std::chrono::duration<double>(std::chrono::steady_clock::now() - began);
    for (const auto& address : local_addresses) {
      base::log::info(client_.session_id, "delivery",
                      {{"queue_id", id},
                       {"to", "<" + address + ">"},
                       {"relay", "local"},
                       {"status", "sent"},
                       {"delay", base::log::seconds(delay.count())},
                       {"dsn", "2.0.0"},
                       {"detail", "delivered to INBOX"}});
    }
    if (!accepted->queue_id.empty()) {
      base::log::info(client_.session_id, "queued",
                      {{"queue_id", accepted->queue_id},
                       {"nrcpt", std::to_string(acceptance->remote->recipients.size())}});
    }
    static auto& messages = base::metrics::counter(
        "postino_smtp_messages_accepted_total",
        "Messages accepted (250 after DATA or BDAT LAST), by service.", {"service"});
    static auto& recipients = base::metrics::counter(
        "postino_smtp_recipients_accepted_total",
        "Recipients of accepted messages, by service and destination.", {"service", "destination"});
    const std::string service = settings_.is_submission ? "submission" : "smtp";
    messages.with({service}).add();
    const auto remote_count = acceptance->remote ? acceptance->remote->recipients.size() : 0;
    recipients.with({service, "local"})
        .add(rcpt_count > remote_count ? rcpt_count - remote_count : 0);
    recipients.with({service, "remote"}).add(remote_count);
    if (account_ && settings_.sending_limiter) settings_.sending_limiter->record(account_->address);
    if (!accepted->queue_id.empty() && settings_.on_queued) settings_.on_queued();
    work_.reply = reply::with(reply::c250_queued, id);
    junk_commands_ = 0;  // as Postfix: the junk count starts again once mail is delivered
  };
}

}  // namespace postino::smtp
