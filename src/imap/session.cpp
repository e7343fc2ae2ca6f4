// The IMAP session state machine and its command table; see session.hpp.
#include "imap/session.hpp"

#include "base/ascii.hpp"
#include "base/metrics.hpp"

#include "imap/wire/response.hpp"

namespace postino::imap {
namespace {

constexpr unsigned in_not_authenticated = 1u << 0;
constexpr unsigned in_selected = 1u << 2;
constexpr unsigned in_authenticated_only = 1u << 1;
constexpr unsigned in_authenticated = in_authenticated_only | in_selected;  // RFC 3501 §3
constexpr unsigned in_any_state = ~0u;

}  // namespace

struct Session::CommandSpec {
  std::string_view name;
  unsigned states;  // bit i set: allowed when state_.index() == i
  void (Session::*run)(const wire::Command&, net::Output&);
};

const Session::CommandSpec* Session::find_command(std::string_view name) {
  static const CommandSpec table[] = {
      {"CAPABILITY", in_any_state, &Session::capability},
      {"NOOP", in_any_state, &Session::noop},
      {"LOGOUT", in_any_state, &Session::logout},
      {"ID", in_any_state, &Session::id},
      {"STARTTLS", in_not_authenticated, &Session::starttls},
      {"LOGIN", in_not_authenticated, &Session::login},
      {"AUTHENTICATE", in_not_authenticated, &Session::authenticate},
      {"ENABLE", in_authenticated_only, &Session::enable},  // RFC 5161 §3.1
      {"COMPRESS", in_authenticated, &Session::compress},
      {"SELECT", in_authenticated, &Session::select},
      {"EXAMINE", in_authenticated, &Session::select},
      {"CREATE", in_authenticated, &Session::create},
      {"DELETE", in_authenticated, &Session::delete_mailbox},
      {"RENAME", in_authenticated, &Session::rename},
      {"SUBSCRIBE", in_authenticated, &Session::subscribe},
      {"UNSUBSCRIBE", in_authenticated, &Session::subscribe},
      {"LIST", in_authenticated, &Session::list},
      {"LSUB", in_authenticated, &Session::list},
      {"STATUS", in_authenticated, &Session::status},
      {"NAMESPACE", in_authenticated, &Session::namespace_command},
      {"GETQUOTAROOT", in_authenticated, &Session::getquotaroot},
      {"GETQUOTA", in_authenticated, &Session::getquota},
      {"SETQUOTA", in_authenticated, &Session::setquota},
      {"APPEND", in_authenticated, &Session::append},
      {"CHECK", in_selected, &Session::check},
      {"CLOSE", in_selected, &Session::close},
      {"UNSELECT", in_selected, &Session::close},
      {"EXPUNGE", in_selected, &Session::expunge},
      {"SEARCH", in_selected, &Session::search_by_sequence},
      {"SORT", in_selected, &Session::sort_by_sequence},
      {"THREAD", in_selected, &Session::thread_by_sequence},
      {"FETCH", in_selected, &Session::fetch_by_sequence},
      {"STORE", in_selected, &Session::store_by_sequence},
      {"COPY", in_selected, &Session::copy_by_sequence},
      {"MOVE", in_selected, &Session::move_by_sequence},
      {"UID", in_selected, &Session::uid},
      {"IDLE", in_authenticated, &Session::idle},
  };
  for (const auto& spec : table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

Session::Session(SessionSettings settings, net::ClientInfo client)
    : settings_(settings),
      client_(std::move(client)),
      receiver_({settings_.max_line_bytes_preauth, settings_.max_line_bytes_preauth, 32, 10000}),
      is_tls_(client_.is_tls) {}

Session::~Session() {
  stop_watching();
}

std::string Session::capabilities() const {
  if (!std::holds_alternative<NotAuthenticated>(state_)) {
    return "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE CHILDREN NAMESPACE UNSELECT MOVE UIDPLUS "
           "SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE CONDSTORE QRESYNC QUOTA ESEARCH SEARCHRES "
           "SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
           "LIST-EXTENDED LIST-STATUS BINARY UTF8=ACCEPT COMPRESS=DEFLATE APPENDLIMIT=" +
           std::to_string(settings_.max_append_bytes);
  }
  std::string caps = is_tls_ ? "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE"
                             : "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE STARTTLS";
  // RFC 3501 §6.2.3 / RFC 8314: no password travels in the clear (RELIABILITY T03).
  caps +=
      may_use_plaintext() ? " SASL-IR AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256" : " LOGINDISABLED";
  return caps;
}

net::Output Session::greet() {
  net::Output out;
  out.bytes = "* OK [CAPABILITY " + capabilities() + "] Postino ready.\r\n";
  return out;
}

net::Output Session::receive(std::string& input) {
  net::Output out;
  return process(input, std::move(out));
}

net::Output Session::resume(std::string& input) {
  if (std::exchange(stream_failed_, false)) {
    // A streamed response cannot be completed (a literal announced, a list not read).
    net::Output out;
    out.after = net::After::close;
    return out;
  }
  if (timing_) {
    record_duration(timing_->first, timing_->second);
    timing_.reset();
  }
  auto out = work_.take();
  if (out.after == net::After::close) return out;
  return process(input, std::move(out));
}

net::Output Session::process(std::string& input, net::Output out) {
  unread_ = &input;
  while (out.after == net::After::read) {
    if (idle_tag_ || sasl_) {
      const auto line_step = receiver_.next_line(input);
      const std::string line(line_step.line);
      input.erase(0, line_step.consumed);
      if (line_step.kind == base::LineStep::Kind::need_more) {
        if (line_step.consumed == 0 || input.empty()) break;
        continue;
      }
      if (idle_tag_) {
        idle_line(line_step.kind == base::LineStep::Kind::too_long ? std::string_view() : line,
                  out);
        continue;
      }
      if (line_step.kind == base::LineStep::Kind::too_long) {
        bad(std::exchange(sasl_, std::nullopt)->tag, "Response too long", out);
        continue;
      }
      sasl_response(line, out);
      continue;
    }
    auto step = receiver_.next(input);
    input.erase(0, step.consumed);
    using Kind = wire::Receiver::Step::Kind;
    if (step.kind == Kind::need_more) {
      if (step.consumed == 0 || input.empty()) break;
      continue;
    }
    if (step.kind == Kind::continuation) {
      out.bytes += "+ Ready for literal data\r\n";
    } else if (step.kind == Kind::fatal) {
      out.bytes += "* BYE " + step.text + "\r\n";
      out.after = net::After::close;
    } else if (step.kind == Kind::error) {
      if (step.text.starts_with("BAD ")) {
        bad(step.tag, step.text.substr(4), out);
      } else {
        out.bytes += step.tag + " " + step.text + "\r\n";
      }
    } else {
      handle(step.command, out);
    }
  }
  // RFC 3501 §6.2.1, CVE-2021-33515: nothing pipelined after STARTTLS survives it.
  // (COMPRESS with bytes behind it is refused before it starts: see compress().)
  if (out.after == net::After::start_tls || out.after == net::After::start_compression)
    input.clear();
  unread_ = nullptr;
  return out;
}

void Session::handle(const wire::Command& cmd, net::Output& out) {
  const CommandSpec* spec = find_command(cmd.name);
  if (!spec) return bad(cmd.tag, "Unknown command", out);
  if (!(spec->states & (1u << state_.index()))) {
    return bad(cmd.tag, "Command not valid in this state", out);
  }
  // The command's duration until its tagged reply is ready (IDLE, which lasts until the
  // client says DONE, is not timed).
  std::string name(spec->name);
  if (name == "UID" && !cmd.arguments.empty()) {
    const auto what = base::to_upper(cmd.arguments[0].value);
    for (const char* known :
         {"FETCH", "STORE", "SEARCH", "COPY", "MOVE", "EXPUNGE", "SORT", "THREAD"}) {
      if (what == known) name += " " + what;
    }
  }
  const auto began = std::chrono::steady_clock::now();
  (this->*spec->run)(cmd, out);
  if (name == "IDLE") return;
  if (out.after == net::After::work) {
    timing_ = {std::move(name), began};
  } else {
    record_duration(name, began);
  }
}

void Session::record_duration(const std::string& command,
                              std::chrono::steady_clock::time_point began) {
  static auto& family = base::metrics::histogram(
      "postino_imap_command_duration_seconds",
      "IMAP commands from their last byte to their tagged reply, by command.", {"command"});
  family.with({command}).observe(std::chrono::steady_clock::now() - began);
}

void Session::bad(std::string_view tag, std::string_view text, net::Output& out) {
  out.bytes += wire::tagged(tag, "BAD " + std::string(text));
  // Dovecot's CLIENT_MAX_BAD_COMMANDS: a client that keeps sending garbage (a web browser
  // before login, a cross-protocol attack) is dropped (RELIABILITY S10, L05).
  const auto limit = std::holds_alternative<NotAuthenticated>(state_)
                         ? settings_.max_bad_commands_preauth
                         : settings_.max_bad_commands;
  if (++bad_commands_ >= limit) {
    out.bytes += "* BYE Too many invalid commands.\r\n";
    out.after = net::After::close;
  }
}

void Session::capability(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "CAPABILITY takes no arguments", out);
  out.bytes += "* CAPABILITY " + capabilities() + "\r\n";
  out.bytes += wire::tagged(cmd.tag, "OK CAPABILITY completed");
}

void Session::noop(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "NOOP takes no arguments", out);
  if (!std::holds_alternative<Selected>(state_)) {
    out.bytes += wire::tagged(cmd.tag, "OK NOOP completed");
    return;
  }
  // RFC 3501 §6.1.2: NOOP is how a client polls for changes to the selected mailbox.
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag] {
    refresh_selected();
    work_.reply += wire::tagged(tag, "OK NOOP completed");
  };
}

void Session::logout(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "LOGOUT takes no arguments", out);
  out.bytes += "* BYE Logging out\r\n";
  out.bytes += wire::tagged(cmd.tag, "OK LOGOUT completed");
  out.after = net::After::close;
}

void Session::starttls(const wire::Command& cmd, net::Output& out) {
  if (is_tls_) return bad(cmd.tag, "TLS is already active", out);
  if (!cmd.arguments.empty()) return bad(cmd.tag, "STARTTLS takes no arguments", out);
  out.bytes += wire::tagged(cmd.tag, "OK Begin TLS negotiation now");
  out.after = net::After::start_tls;
}

void Session::tls_started(const net::TlsInfo&) {
  is_tls_ = true;
}

std::string Session::timeout_reply() {
  return "* BYE Autologout; idle for too long\r\n";
}

std::string Session::shutdown_reply() {
  return "* BYE Server shutting down\r\n";
}

std::chrono::seconds Session::idle_timeout() const {
  return std::holds_alternative<NotAuthenticated>(state_) ? settings_.preauth_timeout
                                                          : settings_.idle_timeout;
}

}  // namespace postino::imap
