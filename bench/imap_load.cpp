// imap_load: an IMAP load generator with a realistic client mix, for any IMAP server on
// plain TCP (Postino with imap.allow_plaintext_loopback, Dovecot with
// disable_plaintext_auth = no). Not part of the server: it links nothing of Postino.
//
// N clients run at once on one thread (Boost.Asio coroutines); client i logs in as user
// i mod U. Each client runs sessions one after another until --seconds have passed (a
// session under way is finished, so every session ends with LOGOUT). One session, every
// command one operation timed from its first byte sent to its tagged reply:
//
//   connect, greeting (timed apart, not an operation)
//   LOGIN "user" "password"
//   SELECT INBOX                                     (UIDNEXT read from the reply)
//   UID FETCH <last+1>:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])
//       the headers of what is new since this client's previous session; on its first
//       session a client starts from the newest ten, as one that synced a little while ago
//       (when nothing is new, "n:*" still returns the newest message, RFC 3501 §6.4.8)
//   UID FETCH <u> BODY.PEEK[]                        u drawn from 1..--mailbox-size: the
//                                                    messages the mailbox was filled with
//   UID STORE <u> +FLAGS (\Seen)                     the user read it
//   UID SEARCH UNSEEN                                the unread count
//   APPEND Sent (\Seen) {n}                          a reply sent (~3 KB); synchronizing
//                                                    literal: waits for the "+"
//   APPEND INBOX {n}                                 stands in for new mail arriving (~3 KB):
//                                                    the other clients of the user see it
//                                                    as new in their next header fetch
//   UID STORE <p> +FLAGS (\Deleted)                  p: what this client appended to INBOX
//   EXPUNGE                                          in its previous session (from
//                                                    APPENDUID), so INBOX does not grow and
//                                                    does not drain; not on a first session
//   LOGOUT
//
// Sent grows by one message a session: the driver (bench/imap_load_bench.py) empties it
// between runs. A NO, BAD, BYE before LOGOUT, a disconnect, a malformed reply or a command
// without reply for --timeout seconds is an error: counted, the session abandoned, the next
// one started; the exit status is 1 when there was any. Replies are parsed minimally but
// by the grammar's framing: a line ending in a literal {n} is continued after n bytes
// counted, not after the next CRLF.
//
// With --rate R the clients together send R commands a second (each one every clients/R
// seconds) instead of each sending its next command as soon as the last is answered, and
// a command is timed from when it was due: the latency of a server at a given load rather
// than at the most it can take (a closed loop of clients that never pause makes the
// faster server run more commands at once, and its commands wait behind each other).
// Paced clients start spread over one whole session (11 commands), not over one command's
// interval: every session has the same length, so clients that started together would
// stay in step and all log in within the same interval, a burst of logins no real
// population of clients sends. The first session's length is a warm-up: what is due
// before it ends is not counted, and --seconds are counted from there.
//
// Output, on stdout, one JSON object: operations per second (the commands answered OK
// within the --seconds after the warm-up, over --seconds: the sessions still under way
// then are finished, timed, but not counted in the rate), p50/p99 per command and over all,
// sessions, errors, and the generator's own CPU time (getrusage), so that one can see it
// is not the bottleneck.
//
//   imap_load --host 127.0.0.1 --port 143 --clients 100 --seconds 20
//             --user-prefix bench --user-count 10 --user-domain bench.test
//             --password pw --mailbox-size 200

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "143";
  int clients = 10;
  double seconds = 10;
  std::vector<std::string> users;
  std::string user_prefix = "user";
  int user_count = 1;
  std::string user_domain;
  std::string password;
  std::uint32_t mailbox_size = 200;
  double timeout_seconds = 30;
  std::size_t message_bytes = 3000;
  double rate = 0;  // operations a second, all clients together; 0: each as fast as it can
};

enum class Op {
  login,
  select,
  fetch_headers,
  fetch_body,
  store_seen,
  search_unseen,
  append_sent,
  append_inbox,
  store_deleted,
  expunge,
  logout,
};
constexpr std::size_t op_count = 11;
// A session after the first runs each of them once.
constexpr int commands_per_session = 11;
constexpr std::array<std::string_view, op_count> op_names = {
    "LOGIN",       "SELECT",       "FETCH_HEADERS", "FETCH_BODY", "STORE_SEEN", "SEARCH_UNSEEN",
    "APPEND_SENT", "APPEND_INBOX", "STORE_DELETED", "EXPUNGE",    "LOGOUT"};

// A reply the mix cannot accept (NO, BAD, BYE, a broken line): one error.
struct ImapError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Stats {
  std::array<std::vector<std::uint32_t>, op_count> latency_us;
  std::vector<std::uint32_t> greeting_us;
  std::uint64_t sessions = 0;
  std::uint64_t answered_in_window = 0;  // OKs received between measure_from and deadline
  std::uint64_t errors = 0;
  std::uint64_t body_bytes = 0;       // literal bytes of the FETCH BODY.PEEK[] replies
  std::uint64_t headers_fetched = 0;  // messages in the header fetches
  std::uint64_t expunge_issued = 0;   // NO [EXPUNGEISSUED] replies (not errors)
  std::vector<std::string> error_samples;

  void error(const std::string& what) {
    ++errors;
    if (error_samples.size() < 20) error_samples.push_back(what);
  }
};

// Everything of one reply to one command: its untagged lines (the contents of their
// literals left out, the {n} kept) and the tagged line.
struct Reply {
  std::vector<std::string> untagged;
  std::string tagged;
  std::uint64_t literal_bytes = 0;
};

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The number in "[KEY n" (UIDNEXT) or "[APPENDUID v n" (the last number before ']').
std::optional<std::uint64_t> code_number(std::string_view line, std::string_view code) {
  auto at = line.find(code);
  if (at == std::string_view::npos) return std::nullopt;
  auto end = line.find(']', at);
  if (end == std::string_view::npos) return std::nullopt;
  auto begin = line.rfind(' ', end);
  if (begin == std::string_view::npos || begin < at) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(line.data() + begin + 1, line.data() + end, n);
  if (ec != std::errc{} || p != line.data() + end) return std::nullopt;
  return n;
}

// The size of a literal that ends a line ("... {123}" or "{123+}"), if the line ends in one.
std::optional<std::uint64_t> trailing_literal(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  auto open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
  if (digits.empty()) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || p != digits.data() + digits.size()) return std::nullopt;
  return n;
}

class Connection {
 public:
  explicit Connection(tcp::socket socket) : socket_(std::move(socket)) {}

  tcp::socket& socket() { return socket_; }

  // One response line, literals skipped by their byte count; `literal_bytes` adds them up.
  awaitable<std::string> read_response(std::uint64_t& literal_bytes) {
    std::string line;
    for (;;) {
      auto eol = buffer_.find("\r\n", pos_);
      if (eol == std::string::npos) {
        co_await fill();
        continue;
      }
      std::string_view segment(buffer_.data() + pos_, eol - pos_);
      line.append(segment);
      pos_ = eol + 2;
      auto literal = trailing_literal(segment);
      if (!literal) break;
      literal_bytes += *literal;
      std::uint64_t left = *literal;
      while (left > buffer_.size() - pos_) {
        left -= buffer_.size() - pos_;
        pos_ = buffer_.size();
        co_await fill();
      }
      pos_ += left;
    }
    if (pos_ == buffer_.size()) {
      buffer_.clear();
      pos_ = 0;
    }
    co_return line;
  }

  awaitable<void> write(std::string_view bytes) {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), use_awaitable);
  }

 private:
  awaitable<void> fill() {
    if (pos_ > 0) {
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    const std::size_t old = buffer_.size();
    buffer_.resize(old + 16384);
    std::size_t n = 0;
    try {
      n = co_await socket_.async_read_some(asio::buffer(buffer_.data() + old, 16384),
                                           use_awaitable);
    } catch (...) {
      buffer_.resize(old);
      throw;
    }
    buffer_.resize(old + n);
  }

  tcp::socket socket_;
  std::string buffer_;
  std::size_t pos_ = 0;
};

struct Shared {
  Options options;
  tcp::endpoint endpoint;
  Clock::time_point deadline;
  Clock::time_point measure_from;  // with --rate: after the warm-up, when all have started
  Stats stats;
  int running = 0;
  std::string message_template;
};

class Client {
 public:
  Client(Shared& shared, int id)
      : shared_(shared),
        id_(id),
        rng_(static_cast<std::uint32_t>(id) * 2654435761u + 1),
        user_(shared.options.users[static_cast<std::size_t>(id) % shared.options.users.size()]) {}

  awaitable<void> run() {
    auto executor = co_await asio::this_coro::executor;
    while (Clock::now() < shared_.deadline) {
      bool failed = false;
      try {
        co_await session(executor);
        if (began_ >= shared_.measure_from) ++shared_.stats.sessions;
      } catch (const std::exception& e) {
        // The session's frame, and its socket with it, is gone already.
        shared_.stats.error(user_ + ": " + e.what());
        failed = true;
      }
      socket_ = nullptr;
      busy_ = false;
      if (failed) {  // no co_await inside a handler
        asio::steady_timer pause(executor, std::chrono::milliseconds(10));
        co_await pause.async_wait(use_awaitable);
      }
    }
    --shared_.running;
  }

  // For the watchdog: the command under way for longer than the timeout loses its socket.
  void check_timeout(Clock::time_point now) {
    if (socket_ && busy_ &&
        now - began_ > std::chrono::duration<double>(shared_.options.timeout_seconds)) {
      boost::system::error_code ignored;
      socket_->close(ignored);
      busy_ = false;
    }
  }

 private:
  awaitable<void> session(asio::any_io_executor executor) {
    tcp::socket socket(executor);
    socket_ = &socket;
    began_ = Clock::now();
    busy_ = true;
    co_await socket.async_connect(shared_.endpoint, use_awaitable);
    socket.set_option(tcp::no_delay(true));
    Connection c(std::move(socket));
    socket_ = &c.socket();
    std::uint64_t ignored_bytes = 0;
    std::string greeting = co_await c.read_response(ignored_bytes);
    busy_ = false;
    if (!greeting.starts_with("* OK")) throw ImapError("greeting: " + greeting);
    if (began_ >= shared_.measure_from) shared_.stats.greeting_us.push_back(micros_since(began_));

    const auto& o = shared_.options;
    co_await command(c, Op::login, "LOGIN " + quoted(user_) + " " + quoted(o.password));
    Reply r = co_await command(c, Op::select, "SELECT INBOX");
    std::uint64_t uid_next = 0;
    for (const auto& line : r.untagged) {
      if (auto n = code_number(line, "[UIDNEXT ")) uid_next = *n;
    }
    if (uid_next == 0) throw ImapError("SELECT without UIDNEXT");
    if (last_seen_ == 0) last_seen_ = uid_next > 11 ? uid_next - 11 : 0;
    r = co_await command(c, Op::fetch_headers,
                         "UID FETCH " + std::to_string(last_seen_ + 1) +
                             ":* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE "
                             "MESSAGE-ID)])");
    for (const auto& line : r.untagged) {
      if (line.find(" FETCH ") != std::string::npos && began_ >= shared_.measure_from) {
        ++shared_.stats.headers_fetched;
      }
    }
    last_seen_ = uid_next - 1;

    const auto uid = std::uniform_int_distribution<std::uint32_t>(1, o.mailbox_size)(rng_);
    r = co_await command(c, Op::fetch_body, "UID FETCH " + std::to_string(uid) + " BODY.PEEK[]");
    if (r.literal_bytes == 0) throw ImapError("UID FETCH " + std::to_string(uid) + ": no body");
    if (began_ >= shared_.measure_from) shared_.stats.body_bytes += r.literal_bytes;
    co_await command(c, Op::store_seen, "UID STORE " + std::to_string(uid) + " +FLAGS (\\Seen)");
    co_await command(c, Op::search_unseen, "UID SEARCH UNSEEN");

    co_await append(c, Op::append_sent, "Sent", "(\\Seen) ");
    r = co_await append(c, Op::append_inbox, "INBOX", "");
    auto appended = code_number(r.tagged, "[APPENDUID ");
    if (!appended) throw ImapError("APPEND without APPENDUID: " + r.tagged);
    if (previous_append_ != 0) {
      co_await command(c, Op::store_deleted,
                       "UID STORE " + std::to_string(previous_append_) + " +FLAGS (\\Deleted)");
      co_await command(c, Op::expunge, "EXPUNGE");
    }
    previous_append_ = *appended;
    co_await command(c, Op::logout, "LOGOUT", true);
    boost::system::error_code ignored;
    c.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.socket().close(ignored);
  }

  // Sends `text` as one command and reads up to its tagged reply, which must be OK.
  awaitable<Reply> command(Connection& c, Op op, const std::string& text, bool is_logout = false) {
    const std::string tag = next_tag();
    co_await pace();
    busy_ = true;
    co_await c.write(tag + " " + text + "\r\n");
    Reply r = co_await read_until_tagged(c, tag, is_logout);
    finish(op, text, r);
    co_return r;
  }

  // APPEND with a synchronizing literal: the message goes only after the server's "+".
  awaitable<Reply> append(Connection& c, Op op, std::string_view mailbox, std::string_view flags) {
    const std::string tag = next_tag();
    const std::string message = next_message();
    const std::string head = std::string("APPEND ") + std::string(mailbox) + " " +
                             std::string(flags) + "{" + std::to_string(message.size()) + "}";
    co_await pace();
    busy_ = true;
    co_await c.write(tag + " " + head + "\r\n");
    Reply r;
    for (;;) {
      std::string line = co_await c.read_response(r.literal_bytes);
      if (line.starts_with("+")) break;
      if (line.starts_with(tag + " ")) {
        r.tagged = std::move(line);
        finish(op, head, r);  // a NO before the literal: throws
        throw ImapError(head + ": tagged reply before '+': " + r.tagged);
      }
      if (!line.starts_with("* ")) throw ImapError(head + ": unexpected line: " + line);
      r.untagged.push_back(std::move(line));
    }
    co_await c.write(message + "\r\n");
    Reply rest = co_await read_until_tagged(c, tag, false);
    rest.untagged.insert(rest.untagged.begin(), r.untagged.begin(), r.untagged.end());
    finish(op, head, rest);
    co_return rest;
  }

  // Sets began_ for the next command. With --rate, each client sends a command every
  // clients/rate seconds (the clients out of step with each other): it waits for the time
  // the command is due, and the command is timed from then, not from when it could be
  // sent, so a server that falls behind the rate is charged for the wait it caused (no
  // "coordinated omission").
  awaitable<void> pace() {
    const auto& o = shared_.options;
    if (o.rate <= 0) {
      began_ = Clock::now();
      co_return;
    }
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(o.clients / o.rate));
    const auto now = Clock::now();
    if (due_ == Clock::time_point{}) {
      due_ = now + interval * commands_per_session * id_ / o.clients;
    }
    if (due_ > now) {
      asio::steady_timer wait(co_await asio::this_coro::executor, due_);
      co_await wait.async_wait(use_awaitable);
    }
    began_ = due_;
    due_ += interval;
  }

  awaitable<Reply> read_until_tagged(Connection& c, const std::string& tag, bool is_logout) {
    Reply r;
    for (;;) {
      std::string line = co_await c.read_response(r.literal_bytes);
      if (line.starts_with(tag + " ")) {
        r.tagged = std::move(line);
        co_return r;
      }
      if (!line.starts_with("* ")) throw ImapError("unexpected line: " + line);
      if (!is_logout && line.starts_with("* BYE")) throw ImapError("BYE: " + line);
      r.untagged.push_back(std::move(line));
    }
  }

  void finish(Op op, std::string_view text, const Reply& r) {
    busy_ = false;
    const auto status = std::string_view(r.tagged).substr(r.tagged.find(' ') + 1);
    // RFC 2180 §4.1.2, RFC 5530: a server may refuse a UID FETCH or STORE that names a
    // message another session expunged and this one was not told of yet. A client lives
    // with it (and learns of the expunge at its next command): counted, not an error.
    const bool is_uid_command = op == Op::fetch_headers || op == Op::fetch_body ||
                                op == Op::store_seen || op == Op::store_deleted;
    const bool counted = began_ >= shared_.measure_from;
    if (is_uid_command && status.starts_with("NO [EXPUNGEISSUED]")) {
      if (counted) ++shared_.stats.expunge_issued;
    } else if (!status.starts_with("OK")) {
      throw ImapError(std::string(text.substr(0, 60)) + " -> " + r.tagged);
    }
    if (counted) {
      shared_.stats.latency_us[static_cast<std::size_t>(op)].push_back(micros_since(began_));
    }
    const auto now = Clock::now();
    if (now >= shared_.measure_from && now < shared_.deadline) ++shared_.stats.answered_in_window;
  }

  static std::uint32_t micros_since(Clock::time_point t) {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
  }

  std::string next_tag() { return "a" + std::to_string(++tag_); }

  // About --message-bytes of plain text with the headers a mail client writes.
  std::string next_message() {
    ++appended_;
    std::string m = "From: " + user_ + "\r\nTo: friend" + std::to_string(appended_ % 50) +
                    "@remote.test\r\nSubject: Re: load test " + std::to_string(id_) + "." +
                    std::to_string(appended_) +
                    "\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <load." +
                    std::to_string(id_) + "." + std::to_string(appended_) +
                    "@imap-load.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
                    "charset=utf-8\r\n\r\n";
    m += shared_.message_template;
    return m;
  }

  Shared& shared_;
  int id_;
  std::mt19937 rng_;
  std::string user_;
  std::uint64_t tag_ = 0;
  std::uint64_t appended_ = 0;
  std::uint64_t last_seen_ = 0;
  std::uint64_t previous_append_ = 0;
  tcp::socket* socket_ = nullptr;
  bool busy_ = false;
  Clock::time_point began_;
  Clock::time_point due_{};  // with --rate: when the next command is due
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "imap_load: " << why << "\n"
            << "usage: imap_load [--host H] [--port P] [--clients N] [--seconds S]\n"
               "         (--users u1,u2,... | --user-prefix P --user-count N [--user-domain D])\n"
               "         --password PW [--mailbox-size N] [--timeout S] [--message-bytes N]\n"
               "         [--rate OPS_PER_SECOND]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage("missing value for " + key);
    const std::string value = argv[++i];
    try {
      if (key == "--host") {
        o.host = value;
      } else if (key == "--port") {
        o.port = value;
      } else if (key == "--clients") {
        o.clients = std::stoi(value);
      } else if (key == "--seconds") {
        o.seconds = std::stod(value);
      } else if (key == "--users") {
        std::stringstream in(value);
        for (std::string u; std::getline(in, u, ',');) {
          if (!u.empty()) o.users.push_back(u);
        }
      } else if (key == "--user-prefix") {
        o.user_prefix = value;
      } else if (key == "--user-count") {
        o.user_count = std::stoi(value);
      } else if (key == "--user-domain") {
        o.user_domain = value;
      } else if (key == "--password") {
        o.password = value;
      } else if (key == "--mailbox-size") {
        o.mailbox_size = static_cast<std::uint32_t>(std::stoul(value));
      } else if (key == "--timeout") {
        o.timeout_seconds = std::stod(value);
      } else if (key == "--message-bytes") {
        o.message_bytes = std::stoul(value);
      } else if (key == "--rate") {
        o.rate = std::stod(value);
      } else {
        usage("unknown option " + key);
      }
    } catch (const std::logic_error&) {
      usage("bad value for " + key + ": " + value);
    }
  }
  if (o.users.empty()) {
    for (int i = 1; i <= o.user_count; ++i) {
      o.users.push_back(o.user_prefix + std::to_string(i) +
                        (o.user_domain.empty() ? "" : "@" + o.user_domain));
    }
  }
  if (o.clients < 1 || o.seconds <= 0 || o.users.empty() || o.mailbox_size < 1 || o.rate < 0) {
    usage(
        "--clients, --seconds, the users and --mailbox-size must be positive, --rate not negative");
  }
  return o;
}

// The body of every appended message: lines of text up to about `bytes`.
std::string message_body(std::size_t bytes) {
  static constexpr std::string_view words[] = {
      "thanks", "for",      "the",    "notes", "about", "meeting", "budget",
      "we",     "should",   "review", "the",   "draft", "before",  "friday",
      "and",    "schedule", "a",      "call",  "with",  "the",     "team"};
  std::string body, line;
  std::size_t k = 0;
  while (body.size() < bytes) {
    line += words[k++ % std::size(words)];
    line += ' ';
    if (line.size() > 70) {
      body += line + "\r\n";
      line.clear();
    }
  }
  return body;
}

struct Summary {
  std::uint64_t count = 0;
  double p50 = 0, p99 = 0, mean = 0, max = 0;
};

Summary summarize(std::vector<std::uint32_t> v) {
  Summary s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))] /
           1000.0;
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.max = v.back() / 1000.0;
  double sum = 0;
  for (auto x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size()) / 1000.0;
  return s;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_summary(const Summary& s) {
  char text[200];
  std::snprintf(text, sizeof text,
                "{\"count\": %llu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"mean_ms\": %.3f, "
                "\"max_ms\": %.3f}",
                static_cast<unsigned long long>(s.count), s.p50, s.p99, s.mean, s.max);
  return text;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  Shared shared;
  shared.options = parse(argc, argv);
  const auto& o = shared.options;
  shared.message_template = message_body(o.message_bytes > 300 ? o.message_bytes - 300 : 0);

  asio::io_context io(1);
  tcp::resolver resolver(io);
  try {
    shared.endpoint = *resolver.resolve(o.host, o.port).begin();
  } catch (const std::exception& e) {
    std::cerr << "imap_load: cannot resolve " << o.host << ":" << o.port << ": " << e.what()
              << "\n";
    return 2;
  }

  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < o.clients; ++i) clients.push_back(std::make_unique<Client>(shared, i));
  const double cpu_before = cpu_seconds();
  const auto started = Clock::now();
  // With --rate, the warm-up: the clients' first commands are due over one session's length.
  const auto warm_up =
      o.rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(o.clients / o.rate * commands_per_session))
                 : Clock::duration::zero();
  const auto began = started + warm_up;
  shared.measure_from = began;
  shared.deadline =
      began + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  shared.running = o.clients;
  for (auto& c : clients) {
    asio::co_spawn(io, c->run(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  // The watchdog: a command without reply for --timeout seconds loses its connection.
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (shared.running > 0) {
          timer.expires_after(std::chrono::milliseconds(200));
          co_await timer.async_wait(use_awaitable);
          const auto now = Clock::now();
          for (auto& c : clients) c->check_timeout(now);
        }
      },
      asio::detached);
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - began).count();
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = cpu_seconds() - cpu_before;

  const Stats& st = shared.stats;
  std::vector<std::uint32_t> all;
  std::uint64_t operations = 0;
  for (const auto& v : st.latency_us) {
    operations += v.size();
    all.insert(all.end(), v.begin(), v.end());
  }
  std::ostringstream out;
  char line[400];
  std::snprintf(line, sizeof line,
                "{\n  \"host\": %s,\n  \"port\": %s,\n  \"clients\": %d,\n  \"users\": %zu,\n"
                "  \"seconds\": %.3f,\n  \"rate\": %.1f,\n  \"elapsed_seconds\": %.3f,\n"
                "  \"sessions\": %llu,\n"
                "  \"operations\": %llu,\n  \"ops_per_second\": %.1f,\n  \"errors\": %llu,\n",
                json_string(o.host).c_str(), json_string(o.port).c_str(), o.clients, o.users.size(),
                o.seconds, o.rate, elapsed, static_cast<unsigned long long>(st.sessions),
                static_cast<unsigned long long>(operations),
                static_cast<double>(st.answered_in_window) / o.seconds,
                static_cast<unsigned long long>(st.errors));
  out << line;
  std::snprintf(line, sizeof line,
                "  \"client_cpu_seconds\": %.3f,\n  \"client_cpu_share_of_one_core\": %.3f,\n"
                "  \"headers_fetched\": %llu,\n  \"body_bytes\": %llu,\n"
                "  \"expunge_issued\": %llu,\n",
                cpu, cpu / wall, static_cast<unsigned long long>(st.headers_fetched),
                static_cast<unsigned long long>(st.body_bytes),
                static_cast<unsigned long long>(st.expunge_issued));
  out << line;
  out << "  \"all\": " << json_summary(summarize(all)) << ",\n";
  out << "  \"greeting\": " << json_summary(summarize(st.greeting_us)) << ",\n";
  out << "  \"commands\": {\n";
  for (std::size_t i = 0; i < op_count; ++i) {
    out << "    " << json_string(op_names[i]) << ": " << json_summary(summarize(st.latency_us[i]))
        << (i + 1 < op_count ? ",\n" : "\n");
  }
  out << "  },\n  \"error_samples\": [";
  for (std::size_t i = 0; i < st.error_samples.size(); ++i) {
    out << (i ? ",\n    " : "\n    ") << json_string(st.error_samples[i]);
  }
  out << (st.error_samples.empty() ? "]\n}\n" : "\n  ]\n}\n");
  std::cout << out.str();
  if (st.errors > 0) {
    std::cerr << "imap_load: " << st.errors << " errors, first: " << st.error_samples.front()
              << "\n";
    return 1;
  }
  if (operations == 0) {
    std::cerr << "imap_load: no operation completed\n";
    return 1;
  }
  return 0;
}
