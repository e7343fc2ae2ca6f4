// The SMTP session: readers, command dispatch and error accounting. The commands live in
// commands/*.cpp; see session.hpp.
#include "smtp/session.hpp"

#include "base/metrics.hpp"

#include "smtp/wire/reply.hpp"

namespace postino::smtp {

using wire::Verb;

Session::Session(SessionSettings settings, net::ClientInfo client)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      splitter_(settings_.max_line_bytes),
      is_tls_(client_.is_tls) {}

net::Output Session::greet() {
  net::Output out;
  out.bytes = reply::with_host(reply::c220_greeting, settings_.hostname);
  return out;
}

net::Output Session::receive(std::string& input) {
  return process(input, {});
}

void Session::count_error(std::string_view reply_line) const {
  static auto& family = base::metrics::counter(
      "postino_smtp_errors_total",
      "SMTP error replies (4xx and 5xx: rejected senders, recipients and messages, bad "
      "commands), by service and reply code with its enhanced status code.",
      {"service", "code"});
  family
      .with({settings_.is_submission ? "submission" : "smtp",
             std::string(reply_line.substr(0, std::min<std::size_t>(9, reply_line.size())))})
      .add();
}

net::Output Session::take_work() {
  if (work_error_) count_error(work_.reply);
  if (std::exchange(work_error_, false) && ++errors_ >= settings_.max_errors) {
    work_.reply += reply::with_host(reply::c421_too_many_errors, settings_.hostname);
    work_.closes = true;
  }
  return work_.take();
}

net::Output Session::resume(std::string& input) {
  auto out = take_work();
  if (out.after == net::After::close) return out;
  return process(input, std::move(out));
}

net::Output Session::process(std::string& input, net::Output out) {
  while (out.after == net::After::read) {
    if (auto* d = std::get_if<ReadingData>(&reader_)) {
      input.erase(0, d->reader.feed(input));
      if (!d->reader.done()) break;
      auto message = std::move(d->reader.message());
      const bool bare_lf = d->reader.saw_bare_lf(), too_big = d->reader.is_too_big();
      reader_ = ReadingCommands{};
      finish_message(std::move(message), bare_lf, too_big, out);
      continue;
    }
    if (auto* b = std::get_if<ReadingBdat>(&reader_)) {
      // RFC 3030 §2: exactly `size` octets follow, whatever they contain.
      const auto take =
          static_cast<std::size_t>(std::min<std::uint64_t>(b->remaining, input.size()));
      if (transaction_ && !transaction_->bdat_too_big) {
        if (transaction_->bdat_message.size() + take > settings_.max_message_bytes) {
          transaction_->bdat_too_big = true;
          transaction_->bdat_message.clear();
        } else {
          transaction_->bdat_message.append(input, 0, take);
        }
      }
      input.erase(0, take);
      b->remaining -= take;
      b->received += take;
      if (b->remaining > 0) break;
      const bool is_last = b->is_last;
      reader_ = ReadingCommands{};
      if (!transaction_ || transaction_->recipients.empty()) {
        error(transaction_ ? reply::c554_no_valid_recipients : reply::c503_need_mail, out);
      } else if (transaction_->bdat_too_big) {
        error(reply::c552_too_big, out);
        reset_transaction();  // RELIABILITY S12: a clean new transaction follows
      } else if (is_last) {
        finish_message(std::move(transaction_->bdat_message), false, false, out);
      } else {
        out.bytes += reply::with(reply::c250_chunk_received,
                                 std::to_string(transaction_->bdat_message.size()));
      }
      continue;
    }
    const auto step = splitter_.next(input);
    const std::string line(step.line);
    input.erase(0, step.consumed);
    if (step.kind == base::LineStep::Kind::need_more) {
      if (step.consumed == 0 || input.empty()) break;
      continue;
    }
    if (step.kind == base::LineStep::Kind::too_long) {
      // RFC 5321 §4.5.3.1.4; the rest of the line is discarded by the splitter.
      if (std::holds_alternative<ReadingAuth>(reader_)) reader_ = ReadingCommands{};
      error(reply::c500_line_too_long, out);
      continue;
    }
    if (std::holds_alternative<ReadingAuth>(reader_)) {
      auth_response(line, out);
      continue;
    }
    handle(wire::parse_command(line), out, !input.empty());
  }
  // RFC 3207 §4.2 / CVE-2011-0411: what the client pipelined after STARTTLS is dropped.
  if (out.after == net::After::start_tls) input.clear();
  return out;
}

void Session::handle(const wire::Command& cmd, net::Output& out, bool more_input_waiting) {
  switch (cmd.verb) {
    case Verb::forbidden:
      out.bytes += reply::line(reply::c221_forbidden_command);
      out.after = net::After::close;
      return;
    case Verb::unknown:
      error(cmd.has_control_chars ? reply::c500_bad_characters : reply::c500_unrecognized, out);
      return;
    case Verb::ehlo:
      return ehlo(cmd, out);
    case Verb::helo:
      return helo(cmd, out);
    case Verb::starttls:
      return starttls(cmd, out);
    case Verb::mail:
      return mail(cmd, out);
    case Verb::rcpt:
      return rcpt(cmd, out);
    case Verb::data:
      return data(cmd, out, more_input_waiting);
    case Verb::bdat:
      return bdat(cmd, out);
    case Verb::auth:
      return auth(cmd, out);
    case Verb::noop:
      // RFC 5321 §4.1.1.9: NOOP may carry a string, which is ignored.
      out.bytes += reply::line(reply::c250_ok);
      return junk_command(out);
    case Verb::rset:
      if (!cmd.argument.empty()) return error(reply::c501_no_arguments, out);
      reset_transaction();
      out.bytes += reply::line(reply::c250_ok);
      return junk_command(out);
    case Verb::quit:
      out.bytes += reply::line(reply::c221_bye);
      out.after = net::After::close;
      return;
    case Verb::vrfy:
      // RFC 5321 §3.5.3 allows 252; no account can be probed (RELIABILITY R01).
      if (cmd.argument.empty()) return error(reply::c501_vrfy_syntax, out);
      out.bytes += reply::line(reply::c252_cannot_vrfy);
      return junk_command(out);
    case Verb::help:
      out.bytes += reply::line(reply::c214_help);
      return;
    case Verb::expn:  // mailing lists are not disclosed
    case Verb::etrn:
      error(reply::c502_not_implemented, out);
      return;
  }
}

void Session::error(std::string_view reply_line, net::Output& out) {
  count_error(reply_line);
  out.bytes += reply::line(reply_line);
  // Postfix's smtpd_hard_error_limit: a client that keeps failing is disconnected.
  if (++errors_ >= settings_.max_errors) {
    out.bytes += reply::with_host(reply::c421_too_many_errors, settings_.hostname);
    out.after = net::After::close;
  }
}

void Session::junk_command(net::Output& out) {
  if (++junk_commands_ <= settings_.max_junk_commands || out.after == net::After::close) return;
  if (++errors_ >= settings_.max_errors) {
    out.bytes += reply::with_host(reply::c421_too_many_errors, settings_.hostname);
    out.after = net::After::close;
  }
}

void Session::reset_transaction() {
  transaction_.reset();
}

void Session::tls_started(const net::TlsInfo& info) {
  is_tls_ = true;
  tls_ = info;
  // RFC 3207 §4.2: forget everything learned before TLS.
  state_ = Greeted{};
  reset_transaction();
  account_.reset();
}

bool Session::is_mid_command() const {
  return std::holds_alternative<ReadingData>(reader_) ||
         std::holds_alternative<ReadingBdat>(reader_);
}

std::chrono::steady_clock::duration Session::command_budget() const {
  // A message transfer gets the idle timeout plus one second per min_data_rate bytes
  // received: a client dripping bytes slower than that is cut off (RELIABILITY L03).
  std::uint64_t received = 0;
  if (const auto* d = std::get_if<ReadingData>(&reader_)) received = d->reader.size();
  if (const auto* b = std::get_if<ReadingBdat>(&reader_)) received = b->received;
  const auto rate = std::max<std::uint64_t>(settings_.min_data_rate, 1);
  return settings_.idle_timeout + std::chrono::milliseconds(received * 1000 / rate);
}

std::string Session::timeout_reply() {
  return reply::with_host(reply::c421_timeout, settings_.hostname);
}

std::string Session::shutdown_reply() {
  return reply::with_host(reply::c421_shutting_down, settings_.hostname);
}

}  // namespace postino::smtp
