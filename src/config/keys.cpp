// The configuration key table (the kinds of key are in key_kinds.hpp); see keys.hpp. Add a
// key here and it is loaded, validated, documented in docs/CONFIG.md and printed by
// `postino config example`.
#include "config/keys.hpp"

#include "config/key_kinds.hpp"

namespace postino::config {
namespace {

using namespace key_kinds;

std::vector<Key> build_keys() {
  std::vector<Key> k;
  // [server]
  k.push_back(string_key(
      "server.hostname",
      "Host name announced in greetings, EHLO and Received headers; empty means the "
      "system's host name.",
      [](auto& c) -> auto& { return c.server.hostname; }));
  k.push_back(string_key(
      "server.data_dir", "Directory holding the mail store, the queue and the TLS material.",
      [](auto& c) -> auto& { return c.server.data_dir; }));
  k.push_back(string_key(
      "server.user",
      "Started as root, the server binds its ports and reads the TLS key, then runs as this "
      "unprivileged user (which must own `server.data_dir`). Empty: keep the user it was "
      "started as. A key readable only by root is not reloaded on SIGHUP then.",
      [](auto& c) -> auto& { return c.server.user; }));
  k.push_back(integer_key(
      "server.io_threads", "Threads running the network event loop; 0 means one per core.",
      [](auto& c) -> auto& { return c.server.io_threads; }, 0, 256));
  k.push_back(integer_key(
      "server.worker_threads",
      "Threads for blocking work of sessions (store operations, reading messages), kept off "
      "the network threads. Most of their time is waiting (a write waits for the group "
      "commit's fsync), not computing, so there are more of them than cores.",
      [](auto& c) -> auto& { return c.server.worker_threads; }, 1, 1024));
  k.push_back(integer_key(
      "server.login_threads",
      "Threads that check passwords (a deliberately slow hash), apart from the worker "
      "threads, so that a burst of logins (a morning, an attack) never makes the store work "
      "of logged-in sessions wait behind it; at most this many hashes run at once.",
      [](auto& c) -> auto& { return c.server.login_threads; }, 1, 1024));
  k.push_back(seconds_key(
      "server.shutdown_grace_seconds",
      "On SIGTERM/SIGINT: how long sessions busy with a command may run before the server "
      "exits anyway. Idle sessions are told goodbye at once.",
      [](auto& c) -> auto& { return c.server.shutdown_grace; }, 0, 600));
  k.push_back(integer_key(
      "server.memory_keep_bytes",
      "Memory the server keeps for reuse in each of the C library's heaps once freed, "
      "rather than giving it back to the system at once; blocks below this (and 32 MiB) "
      "come from those heaps. A burst of work (an IMAP EXPUNGE or COPY of thousands of "
      "messages) then reuses the memory of the one before instead of taking fresh pages, "
      "each a page fault, dear on virtual machines (EXPUNGE of 10,000: 3,700 page faults "
      "and 160 ms with glibc's default of 128 KiB, none and 133 ms with 64 MiB). "
      "server.memory_return_seconds gives it back in the end. 0: glibc's defaults.",
      [](auto& c) -> auto& { return c.server.memory_keep_bytes; }, 0, std::int64_t{1} << 30));
  k.push_back(seconds_key(
      "server.memory_return_seconds",
      "Every this often the memory kept for reuse (server.memory_keep_bytes) is given back "
      "to the system, so that the server's size falls back after a burst. 0: never.",
      [](auto& c) -> auto& { return c.server.memory_return_interval; }, 0, 86400));
  // [log]
  k.push_back(string_key("log.level", "Least severe event that is logged.",
                         [](auto& c) -> auto& { return c.log.level; },
                         {"debug", "info", "warn", "error"}));
  k.push_back(string_key(
      "log.format",
      "Log line format on stderr: `auto` is `text` on a terminal and `logfmt` otherwise.",
      [](auto& c) -> auto& { return c.log.format; }, {"auto", "text", "logfmt"}));
  k.push_back(integer_key(
      "log.buffer_bytes",
      "Log lines waiting to be written, at most; past it a session that logs waits for the "
      "logging thread (a line is never dropped).",
      [](auto& c) -> auto& { return c.log.buffer_bytes; }, 4096, std::int64_t{1} << 30));
  k.push_back(integer_key(
      "log.gather_ms",
      "How long the logging thread gathers lines before it writes them in one write, once "
      "it is woken by the first; an error is written at once. 0: each as soon as it can.",
      [](auto& c) -> auto& { return c.log.gather_ms; }, 0, 1000));
  // [tls]
  k.push_back(string_key(
      "tls.cert_file",
      "PEM certificate chain for STARTTLS and implicit TLS; reloaded on SIGHUP. `serve --dev` "
      "creates a self-signed one in the data directory.",
      [](auto& c) -> auto& { return c.tls.cert_file; }));
  k.push_back(string_key(
      "tls.key_file", "PEM private key of `tls.cert_file`; reloaded on SIGHUP.",
      [](auto& c) -> auto& { return c.tls.key_file; }));
  k.push_back(string_key("tls.min_version",
                         "Oldest TLS version accepted; older ones fail the handshake.",
                         [](auto& c) -> auto& { return c.tls.min_version; }, {"1.2", "1.3"}));
  k.push_back(seconds_key(
      "tls.handshake_timeout_seconds",
      "A TLS handshake not finished in this time closes the connection.",
      [](auto& c) -> auto& { return c.tls.handshake_timeout; }, 1, 3600));
  // [limits]
  k.push_back(integer_key(
      "limits.max_connections",
      "Connections served at once over all listeners; past it a new connection gets the "
      "protocol's \"too busy\" reply and is closed.",
      [](auto& c) -> auto& { return c.limits.max_connections; }, 1, 1000000));
  k.push_back(integer_key(
      "limits.max_connections_per_ip",
      "Connections at once from one client address (trusted networks exempt); past it the "
      "protocol's \"too busy\" reply and close.",
      [](auto& c) -> auto& { return c.limits.max_connections_per_ip; }, 1, 1000000));
  k.push_back(integer_key(
      "limits.max_new_connections_per_minute_per_ip",
      "New connections per minute from one client address (trusted networks exempt); past it "
      "the protocol's \"too busy\" reply and close. 0 turns the limit off.",
      [](auto& c) -> auto& { return c.limits.max_new_connections_per_minute_per_ip; }, 0, 1000000));
  k.push_back(Key{"limits.trusted_networks", "list of networks",
                  "Client networks exempt from per-address connection and rate limits "
                  "(authentication failure delays still apply).",
                  [](Config& c, const toml::node& n) {
                    return read_string_list(n, c.limits.trusted_networks,
                                            [](const std::string& s) -> std::string {
                                              if (parse_network(s)) return "";
                                              return "\"" + s +
                                                     "\" is not an address or "
                                                     "ADDR/PREFIX network";
                                            });
                  },
                  [](const Config& c) { return show_list(c.limits.trusted_networks); }});
  // [listen]
  k.push_back(listener_key(Protocol::smtp, "SMTP from other servers (RFC 5321), with STARTTLS."));
  k.push_back(listener_key(Protocol::submission,
                           "Message submission from users (RFC 6409), with STARTTLS."));
  k.push_back(
      listener_key(Protocol::submissions, "Message submission over implicit TLS (RFC 8314)."));
  k.push_back(listener_key(Protocol::imap, "IMAP (RFC 3501), with STARTTLS."));
  k.push_back(listener_key(Protocol::imaps, "IMAP over implicit TLS (RFC 8314)."));
  k.push_back(listener_key(Protocol::pop3, "POP3 (RFC 1939), with STLS."));
  k.push_back(listener_key(Protocol::pop3s, "POP3 over implicit TLS (RFC 8314)."));
  k.push_back(listener_key(
      Protocol::http,
      "HTTP: /health, /metrics (trusted networks), Thunderbird autoconfig, Outlook "
      "autodiscover and the MTA-STS policy. Off unless listed (`serve --dev`: 127.0.0.1:8080)."));
  k.push_back(listener_key(Protocol::https,
                           "The same over implicit TLS with `tls.cert_file` (MTA-STS policies "
                           "must be fetched over HTTPS, RFC 8461 §3.3)."));
  // [http]
  k.push_back(integer_key(
      "http.max_header_bytes",
      "Largest HTTP request line and header; larger requests get `431` and are closed.",
      [](auto& c) -> auto& { return c.http.max_header_bytes; }, 1024, 1 << 20));
  k.push_back(integer_key(
      "http.max_body_bytes",
      "Largest HTTP request body (autodiscover requests); larger ones get `413` and are closed.",
      [](auto& c) -> auto& { return c.http.max_body_bytes; }, 0, 64 << 20));
  k.push_back(seconds_key(
      "http.idle_timeout_seconds",
      "An HTTP connection silent this long (or one request taking longer) is closed.",
      [](auto& c) -> auto& { return c.http.idle_timeout; }, 1, 3600));
  k.push_back(string_key(
      "http.admin_token_file",
      "A file holding the admin API's token (32 characters or more, read at start as root): "
      "loopback clients sending `Authorization: Bearer TOKEN` may manage domains, users, "
      "aliases, quotas and the queue under /api/. Empty: no admin API.",
      [](auto& c) -> auto& { return c.http.admin_token_file; }));
  // [mta_sts]
  k.push_back(string_key(
      "mta_sts.mode",
      "The MTA-STS policy served at /.well-known/mta-sts.txt (RFC 8461): `none` serves no "
      "policy; `testing` asks senders to report failures but deliver; `enforce` to deliver "
      "only over TLS to the `mta_sts.mx` hosts with a valid certificate.",
      [](auto& c) -> auto& { return c.mta_sts.mode; }, {"none", "testing", "enforce"}));
  k.push_back(Key{"mta_sts.mx", "list of host names",
                  "MX host names (or `*.example.org` patterns) the policy lists; empty means "
                  "`server.hostname`.",
                  [](Config& c, const toml::node& n) {
                    return read_string_list(
                        n, c.mta_sts.mx, [](const std::string& s) -> std::string {
                          if (!s.empty() && s.find_first_of(" \t\r\n") == std::string::npos)
                            return "";
                          return "\"" + s + "\" is not a host name";
                        });
                  },
                  [](const Config& c) { return show_list(c.mta_sts.mx); }});
  k.push_back(seconds_key(
      "mta_sts.max_age_seconds",
      "How long senders may cache the policy (RFC 8461 §3.2 allows up to 31557600).",
      [](auto& c) -> auto& { return c.mta_sts.max_age; }, 86400, 31557600));
  // [smtp]
  k.push_back(integer_key(
      "smtp.max_line_bytes",
      "Longest SMTP command line, without CRLF (RFC 5321 §4.5.3.1.4 asks for at least 512); "
      "longer lines get `500 5.5.2` and are discarded.",
      [](auto& c) -> auto& { return c.smtp.max_line_bytes; }, 512, 1 << 20));
  k.push_back(seconds_key(
      "smtp.idle_timeout_seconds",
      "Time to wait for the next SMTP command (RFC 5321 §4.5.3.2.7: 5 min).",
      [](auto& c) -> auto& { return c.smtp.idle_timeout; }, 1, 86400));
  k.push_back(integer_key(
      "smtp.max_errors",
      "Error replies in one SMTP session before `421 4.7.0` and disconnect (Postfix "
      "`smtpd_hard_error_limit`).",
      [](auto& c) -> auto& { return c.smtp.max_errors; }, 1, 100000));
  k.push_back(integer_key(
      "smtp.max_junk_commands",
      "NOOP, RSET, VRFY and ETRN commands one SMTP session may send (counted again after each "
      "message it delivers) before each further one counts as an error toward "
      "`smtp.max_errors` (Postfix `smtpd_junk_command_limit`).",
      [](auto& c) -> auto& { return c.smtp.max_junk_commands; }, 1, 100000));
  k.push_back(integer_key(
      "smtp.recipient_overshoot_limit",
      "Recipients of one message past `smtp.max_recipients` answered `452 4.5.3` (the client "
      "sends them in another transaction) before each further one counts as an error toward "
      "`smtp.max_errors` (Postfix `smtpd_recipient_overshoot_limit`).",
      [](auto& c) -> auto& { return c.smtp.recipient_overshoot_limit; }, 0, 10000000));
  k.push_back(integer_key(
      "smtp.max_message_bytes",
      "Largest message accepted (advertised as SIZE, RFC 1870); larger ones get `552 5.3.4`.",
      [](auto& c) -> auto& { return c.smtp.max_message_bytes; }, 1024, 1LL << 40));
  k.push_back(integer_key(
      "smtp.max_recipients",
      "Recipients per message; further RCPTs get `452 4.5.3` (RFC 5321 §4.5.3.1.8 asks for at "
      "least 100).",
      [](auto& c) -> auto& { return c.smtp.max_recipients; }, 100, 1000000));
  k.push_back(integer_key(
      "smtp.max_auth_failures", "Failed AUTH attempts in one session before `421` and disconnect.",
      [](auto& c) -> auto& { return c.smtp.max_auth_failures; }, 1, 1000));
  k.push_back(integer_key(
      "smtp.max_received_headers",
      "Received headers a message may carry; more is a mail loop: `554 5.4.6` (Postfix "
      "hopcount_limit).",
      [](auto& c) -> auto& { return c.smtp.max_received_headers; }, 10, 1000));
  k.push_back(string_key(
      "smtp.bare_lf",
      "Message lines ending in a bare LF: `normalize` stores them with CRLF (Postfix 3.9's "
      "default); `reject` refuses the message with `550 5.5.2`. Either way only CRLF.CRLF ends "
      "the data.",
      [](auto& c) -> auto& { return c.smtp.bare_lf; }, {"normalize", "reject"}));
  k.push_back(integer_key(
      "smtp.min_data_rate_bytes_per_second",
      "During DATA and BDAT the idle timeout grows by one second per this many bytes received; "
      "a client sending slower is cut off (Postfix smtpd_min_data_rate).",
      [](auto& c) -> auto& { return c.smtp.min_data_rate; }, 1, 1LL << 30));
  k.push_back(integer_key(
      "smtp.max_messages_per_hour",
      "Messages one authenticated user may submit per hour; past it `451 4.7.1`. 0 turns the "
      "limit off.",
      [](auto& c) -> auto& { return c.smtp.max_messages_per_hour; }, 0, 10000000));
  // [imap]
  k.push_back(integer_key(
      "imap.max_line_bytes", "Longest IMAP command line after login, without CRLF and literals.",
      [](auto& c) -> auto& { return c.imap.max_line_bytes; }, 1024, 64 << 20));
  k.push_back(integer_key(
      "imap.max_line_bytes_preauth", "Longest IMAP command line before login.",
      [](auto& c) -> auto& { return c.imap.max_line_bytes_preauth; }, 256, 1 << 20));
  k.push_back(seconds_key(
      "imap.idle_timeout_seconds",
      "Inactivity after login before the server ends the session (RFC 3501 §5.4: at least 30 min).",
      [](auto& c) -> auto& { return c.imap.idle_timeout; }, 1, 86400));
  k.push_back(seconds_key(
      "imap.preauth_timeout_seconds", "Inactivity before login before the server ends the session.",
      [](auto& c) -> auto& { return c.imap.preauth_timeout; }, 1, 86400));
  k.push_back(integer_key(
      "imap.max_bad_commands_preauth",
      "BAD replies before login after which the server says BYE and closes (Dovecot: 3).",
      [](auto& c) -> auto& { return c.imap.max_bad_commands_preauth; }, 1, 10000));
  k.push_back(integer_key(
      "imap.max_bad_commands",
      "BAD replies after login after which the server says BYE and closes (Dovecot: 20).",
      [](auto& c) -> auto& { return c.imap.max_bad_commands; }, 1, 100000));
  k.push_back(integer_key(
      "imap.max_auth_failures", "Failed logins in one session before the server says BYE.",
      [](auto& c) -> auto& { return c.imap.max_auth_failures; }, 1, 1000));
  k.push_back(integer_key(
      "imap.max_append_bytes",
      "Largest message APPEND accepts (a bigger literal gets `NO [TOOBIG]` before the client "
      "sends it).",
      [](auto& c) -> auto& { return c.imap.max_append_bytes; }, 1024, 1LL << 40));
  k.push_back(integer_key(
      "imap.view_cache_messages",
      "Messages of recently selected mailboxes kept in memory between sessions (about 64 "
      "bytes each, more with keywords), so that SELECT of a big mailbox reads only what "
      "changed since it was last selected; the least recently selected mailbox goes first. "
      "0 keeps none.",
      [](auto& c) -> auto& { return c.imap.view_cache_messages; }, 0, 1LL << 32));
  k.push_back(integer_key(
      "imap.list_file_messages",
      "Message lists of mailboxes with at least this many messages are also saved in files "
      "under <server.data_dir>/lists (about 13 bytes a message), so that the first SELECT "
      "after a restart reads one file and what changed since instead of the list's pages "
      "scattered over store.db. A cache: rebuilt from the store when missing or damaged. "
      "0 saves none.",
      [](auto& c) -> auto& { return c.imap.list_file_messages; }, 0, 1LL << 32));
  k.push_back(bool_key(
      "imap.allow_plaintext_loopback",
      "Allow LOGIN and AUTHENTICATE without TLS for clients on loopback addresses; everyone "
      "else sees LOGINDISABLED until STARTTLS or uses port 993.",
      [](auto& c) -> auto& { return c.imap.allow_plaintext_loopback; }));
  // [pop3]
  k.push_back(integer_key(
      "pop3.max_line_bytes",
      "Longest POP3 command line, without CRLF (RFC 2449 §4: commands fit in 255 octets).",
      [](auto& c) -> auto& { return c.pop3.max_line_bytes; }, 255, 1 << 20));
  k.push_back(seconds_key(
      "pop3.idle_timeout_seconds",
      "Inactivity before the server ends the session (RFC 1939 §3: at "
      "least 10 min).",
      [](auto& c) -> auto& { return c.pop3.idle_timeout; }, 1, 86400));
  k.push_back(integer_key(
      "pop3.max_bad_commands",
      "Error replies to unknown or malformed commands before the server closes the session.",
      [](auto& c) -> auto& { return c.pop3.max_bad_commands; }, 1, 10000));
  k.push_back(bool_key(
      "pop3.allow_plaintext_loopback",
      "Allow USER/PASS and AUTH without TLS for clients on loopback addresses (local "
      "scripts); everyone else must use STLS or port 995 (RFC 8314).",
      [](auto& c) -> auto& { return c.pop3.allow_plaintext_loopback; }));
  k.push_back(integer_key(
      "pop3.max_auth_failures", "Failed logins in one session before the server closes it.",
      [](auto& c) -> auto& { return c.pop3.max_auth_failures; }, 1, 1000));
  k.push_back(integer_key(
      "pop3.read_ahead_bytes",
      "The most bytes of the messages after the one a RETR or TOP asks for that are read "
      "with it and kept for the commands that follow (clients download a maildrop in order: "
      "those are then answered without waiting for the disk). A session's first read-ahead "
      "is an eighth of this, and each time the client has asked for all of one in order the "
      "next is twice as large, up to this: a client that reads a message or two is not read "
      "much for nothing, and one that downloads everything makes few trips (1,000 messages "
      "of 5 KB one at a time: 26,000 a second with 256 KiB each time, 28,000 growing to 2 "
      "MiB; 50 at a time 62,000 against 80,000). 0 reads only what is asked for.",
      [](auto& c) -> auto& { return c.pop3.read_ahead_bytes; }, 0, 64 * 1024 * 1024));
  // [store]
  k.push_back(seconds_key(
      "store.busy_timeout_seconds",
      "How long a store operation waits for a database lock held elsewhere before it fails "
      "with a temporary error (SMTP 451, IMAP NO [UNAVAILABLE]).",
      [](auto& c) -> auto& { return c.store.busy_timeout; }, 1, 600));
  k.push_back(integer_key(
      "store.max_batch",
      "Most write operations committed together in one transaction (group commit: one fsync "
      "for all of them).",
      [](auto& c) -> auto& { return c.store.max_batch; }, 1, 100000));
  k.push_back(seconds_key(
      "store.blob_grace_seconds",
      "Message bodies nothing refers to are removed once they have been unreferenced this "
      "long (at start-up and every store.tidy_interval_seconds), and bodies whose save never "
      "committed (a crash) once they are this old (at start-up).",
      [](auto& c) -> auto& { return c.store.blob_grace; }, 0, 30 * 86400));
  k.push_back(seconds_key(
      "store.tidy_interval_seconds",
      "How often the running server tidies its store as its start-up does: bodies unreferenced "
      "for store.blob_grace_seconds removed, body-log segments nothing refers to any more "
      "removed and mostly dead ones compacted (store.log_compact_percent), so that the "
      "space of deleted mail comes back without a restart. From the end of one tidying to "
      "the start of the next. 0: only at start-up.",
      [](auto& c) -> auto& { return c.store.tidy_interval; }, 0, 7 * 86400));
  k.push_back(integer_key(
      "store.max_mailbox_name_bytes", "Longest mailbox name (UTF-8 bytes, all levels).",
      [](auto& c) -> auto& { return c.store.max_mailbox_name_bytes; }, 16, 4096));
  k.push_back(integer_key(
      "store.max_mailbox_depth", "Most levels in a mailbox name (a/b/c is 3).",
      [](auto& c) -> auto& { return c.store.max_mailbox_depth; }, 1, 256));
  k.push_back(integer_key(
      "store.max_indexed_text_bytes",
      "Most text (decoded text parts) of one message put in the full-text index of IMAP SEARCH "
      "BODY and TEXT; a message with more is searched by reading it. 0: no index at all.",
      [](auto& c) -> auto& { return c.store.max_indexed_text_bytes; }, 0, std::int64_t{1} << 30));
  k.push_back(integer_key(
      "store.inline_body_bytes",
      "Messages of at most this many bytes are kept in the database, written by the commit "
      "that saves them (one fsync for the message and its rows); larger ones go to the body "
      "log (store.log_body_bytes) or are files under blobs/, read in pieces. The database "
      "writes a body twice (its log, then the checkpoint): 10 SMTP sessions delivered 5 KB "
      "messages 15-25 % faster from the database, 50 KB ones 17 % faster from the body log, "
      "and 20 KB ones as fast either way. Space freed in the database is reused by new mail "
      "but not given back to the file system. 0: no message in the database.",
      [](auto& c) -> auto& { return c.store.inline_body_bytes; }, 0, std::int64_t{16} << 20));
  k.push_back(integer_key(
      "store.log_body_bytes",
      "Messages larger than store.inline_body_bytes and of at most this many bytes are "
      "appended to the body log (segments/ under the data directory): written to the disk "
      "once, where the database writes a body twice (its log, then the checkpoint) and a file "
      "of its own costs its creation and a directory fsync. Larger ones are files under "
      "blobs/. 0: no body log.",
      [](auto& c) -> auto& { return c.store.log_body_bytes; }, 0, std::int64_t{1} << 30));
  k.push_back(integer_key(
      "store.log_segment_bytes",
      "A body-log segment takes no more messages once it holds this many bytes; the next one "
      "begins. A segment is removed once none of its messages is left (at start-up and "
      "every store.tidy_interval_seconds).",
      [](auto& c) -> auto& { return c.store.log_segment_bytes; }, std::int64_t{1} << 20,
      std::int64_t{1} << 34));
  k.push_back(integer_key(
      "store.log_compact_percent",
      "A body-log segment no longer written whose messages still in use take less than this "
      "share of it (percent) is compacted, at start-up and every store.tidy_interval_seconds: "
      "they are copied to the end of the log and the segment removed, giving the space of "
      "deleted mail back. 0: never.",
      [](auto& c) -> auto& { return c.store.log_compact_percent; }, 0, 100));
  k.push_back(integer_key(
      "store.tidy_bytes_per_second",
      "How fast the running server's tidying (store.tidy_interval_seconds) may copy the "
      "messages of the body-log segments it compacts, so that after a mass deletion the "
      "copying is spread out and the mail arriving and being read meanwhile shares the "
      "disk with it rather than waiting behind a burst. The tidying at start-up goes as fast "
      "as the disk does. 0: no limit.",
      [](auto& c) -> auto& { return c.store.tidy_bytes_per_second; }, 0, std::int64_t{1} << 40));
  k.push_back(power_of_two_key(
      "store.page_size",
      "Bytes of each page of store.db, fixed when the store is created (an existing store "
      "keeps its own). Every commit writes each page it changed whole, and a delivery "
      "changes a few pages at places set by its content's hash: smaller pages write less "
      "(5 KB messages over 10 or 50 SMTP sessions: 18-23 % more a second, half the bytes "
      "written, with 4,096 against 16,384); larger ones read a big mailbox from a cold page "
      "cache in fewer reads (100,000 messages, FETCH 1:* ENVELOPE: 280 against 190 ms).",
      [](auto& c) -> auto& { return c.store.page_size; }, 1024, 65536));
  k.push_back(integer_key(
      "store.wal_checkpoint_bytes",
      "How much the write-ahead log of store.db grows before its pages are copied into the "
      "database (SQLite's automatic checkpoint, rounded to whole pages). A page written by "
      "many commits in between is copied once: 16 MiB against SQLite's 1,000 pages (4 MiB "
      "with 4 KiB pages) delivered 5 KB messages over 10 sessions 3-12 % faster and wrote "
      "10 % fewer bytes. The log's file keeps its largest size; a restart after a crash "
      "replays it.",
      [](auto& c) -> auto& { return c.store.wal_checkpoint_bytes; }, 64 * 1024,
      std::int64_t{1} << 30));
  k.push_back(integer_key(
      "store.writer_cache_bytes",
      "Most memory the store's one writing connection keeps of store.db's pages, taken as "
      "pages are read. A write that changes more pages than this (an EXPUNGE or COPY of "
      "thousands of messages) spills them to the write-ahead log before its commit and "
      "reads them back (10,000 messages of an IMAP client's EXPUNGE: 135-189 ms with 16 MiB, "
      "275-278 ms with SQLite's 2 MiB). More costs a new server CPU while the cache fills "
      "(64 MiB: 8 % more a 5 KB delivery, with no faster EXPUNGE of 10,000). Reading "
      "connections keep SQLite's 2 MiB each.",
      [](auto& c) -> auto& { return c.store.writer_cache_bytes; }, 1024 * 1024,
      std::int64_t{1} << 34));
  k.push_back(integer_key(
      "store.text_index_batch_bytes",
      "Most text the background indexer puts in the full-text index per transaction (new "
      "mail is indexed after it is saved, never while the sender waits; a transaction ends "
      "early, after the message it is writing, when a save is waiting for the writer).",
      [](auto& c) -> auto& { return c.store.text_index_batch_bytes; }, 1024,
      std::int64_t{1} << 30));
  k.push_back(integer_key(
      "store.text_index_quiet_ms",
      "The background indexer waits until no message has been saved for this long, so that "
      "it never slows deliveries down; under steady load searches read the newest messages "
      "instead.",
      [](auto& c) -> auto& { return c.store.text_index_quiet_ms; }, 0, 600000));
  k.push_back(integer_key(
      "store.scrub_bytes_per_second",
      "How fast the background scrub reads stored bodies against their hashes (a pass "
      "store.scrub_start_delay_seconds after start-up, then one every "
      "store.scrub_interval_seconds); a body found missing or "
      "damaged is quarantined: moved to quarantine/ with a note, its messages expunged, its "
      "queue entries held, an error logged. 0: no scrub.",
      [](auto& c) -> auto& { return c.store.scrub_bytes_per_second; }, 0, std::int64_t{1} << 40));
  k.push_back(seconds_key(
      "store.scrub_interval_seconds", "From the start of one scrub pass to the start of the next.",
      [](auto& c) -> auto& { return c.store.scrub_interval; }, 60, 365 * 86400));
  k.push_back(seconds_key(
      "store.scrub_start_delay_seconds",
      "How long after start-up the first scrub pass begins: the clients that reconnect after "
      "a restart, reading their mailboxes from a cold disk, do not share it with the scrub.",
      [](auto& c) -> auto& { return c.store.scrub_start_delay; }, 0, 7 * 86400));
  // [mime]
  k.push_back(integer_key(
      "mime.max_depth",
      "MIME nesting parsed at most (multiparts and attached messages); deeper parts are "
      "served as opaque leaves (Postfix mime_nesting_limit: 100).",
      [](auto& c) -> auto& { return c.mime.max_depth; }, 1, 1000));
  k.push_back(integer_key(
      "mime.max_parts",
      "MIME parts parsed at most in one message; the rest stay inside "
      "their parent.",
      [](auto& c) -> auto& { return c.mime.max_parts; }, 1, 1000000));
  k.push_back(integer_key(
      "mime.max_header_bytes", "Bytes of one header block that are parsed for fields.",
      [](auto& c) -> auto& { return c.mime.max_header_bytes; }, 1024, 1LL << 30));
  // [auth]
  k.push_back(integer_key(
      "auth.failure_delay_ms",
      "Delay before answering the first failed login from an address or against an account; "
      "it doubles with each further failure (a repeated wrong password does not count again).",
      [](auto& c) -> auto& { return c.auth.failure_delay_ms; }, 0, 600000));
  k.push_back(integer_key(
      "auth.max_failure_delay_ms", "Cap of the failed-login delay.",
      [](auto& c) -> auto& { return c.auth.max_failure_delay_ms; }, 0, 3600000));
  k.push_back(seconds_key(
      "auth.failure_memory_seconds",
      "An address or account with no failed login for this long starts "
      "over without delay.",
      [](auto& c) -> auto& { return c.auth.failure_memory; }, 1, 86400 * 7));
  k.push_back(integer_key(
      "auth.max_failures_per_minute",
      "Failed logins per minute across every client and account before each further failure "
      "is delayed as if they all came from one address (a password spray from many "
      "addresses, one try each). 0: no such limit, only per address and per account.",
      [](auto& c) -> auto& { return c.auth.max_failures_per_minute; }, 0, 100000000));
  // [outbound]
  k.push_back(string_key(
      "outbound.dns",
      "DNS servers for MX and address lookups, `HOST:PORT[,HOST:PORT…]`; empty uses "
      "/etc/resolv.conf. `postino serve --dns` sets it too.",
      [](auto& c) -> auto& { return c.outbound.dns; }));
  k.push_back(integer_key(
      "outbound.dns_timeout_ms",
      "Wait for one DNS answer before asking again (two tries per server); a lookup that "
      "gets no answer defers the message.",
      [](auto& c) -> auto& { return c.outbound.dns_timeout_ms; }, 100, 60000));
  k.push_back(Key{"outbound.routes", "list of routes",
                  "Domains whose mail goes to a fixed server instead of their MX hosts: "
                  "`DOMAIN=HOST:PORT` each (also `postino serve --route`).",
                  [](Config& c, const toml::node& n) {
                    return read_string_list(n, c.outbound.routes,
                                            [](const std::string& s) -> std::string {
                                              if (parse_route(s)) return "";
                                              return "\"" + s + "\" is not DOMAIN=HOST:PORT";
                                            });
                  },
                  [](const Config& c) { return show_list(c.outbound.routes); }});
  k.push_back(Key{"outbound.relay_host", "string",
                  "A smarthost, `HOST:PORT`: mail for every domain without a route goes there "
                  "instead of to its MX hosts. Empty: MX delivery.",
                  [](Config& c, const toml::node& n) -> std::string {
                    auto v = n.value_exact<std::string>();
                    if (!v) return "expected a string";
                    if (!v->empty() && !parse_host_port(*v)) return "expected HOST:PORT";
                    c.outbound.relay_host = *v;
                    return "";
                  },
                  [](const Config& c) { return toml_quote(c.outbound.relay_host); }});
  k.push_back(string_key(
      "outbound.relay_user",
      "User name for AUTH at the relay host (RFC 4954: PLAIN, else LOGIN); sent only over "
      "TLS. Empty: no AUTH.",
      [](auto& c) -> auto& { return c.outbound.relay_user; }));
  k.push_back(string_key(
      "outbound.relay_password_file",
      "File whose first line is the relay host password (kept out of the configuration).",
      [](auto& c) -> auto& { return c.outbound.relay_password_file; }));
  k.push_back(integer_key(
      "outbound.port", "Port of the MX hosts (RFC 5321: 25; another only for tests).",
      [](auto& c) -> auto& { return c.outbound.port; }, 1, 65535));
  k.push_back(bool_key(
      "outbound.require_tls",
      "Never send in the clear: a server that does not offer STARTTLS, or whose handshake "
      "fails, defers the message. Otherwise TLS is used whenever offered (RFC 7435); "
      "certificates are not checked either way.",
      [](auto& c) -> auto& { return c.outbound.require_tls; }));
  k.push_back(seconds_key(
      "outbound.connect_timeout_seconds", "Wait for a TCP connection to another server.",
      [](auto& c) -> auto& { return c.outbound.connect_timeout; }, 1, 600));
  k.push_back(seconds_key(
      "outbound.command_timeout_seconds",
      "Wait for the greeting and each reply of another server (RFC 5321 §4.5.3.2: 5 min).",
      [](auto& c) -> auto& { return c.outbound.command_timeout; }, 1, 3600));
  k.push_back(seconds_key(
      "outbound.data_timeout_seconds",
      "Wait for the reply to a message sent (RFC 5321 §4.5.3.2.6: 10 min).",
      [](auto& c) -> auto& { return c.outbound.data_timeout; }, 1, 3600));
  k.push_back(integer_key(
      "outbound.max_addresses",
      "Server addresses (MX hosts and their addresses, in order) tried in one attempt "
      "before the message waits for its next try (Postfix smtp_mx_address_limit: 5).",
      [](auto& c) -> auto& { return c.outbound.max_addresses; }, 1, 100));
  k.push_back(integer_key(
      "outbound.max_deliveries", "Messages in delivery at once.",
      [](auto& c) -> auto& { return c.outbound.max_deliveries; }, 1, 10000));
  k.push_back(integer_key(
      "outbound.max_per_domain",
      "Connections to one destination domain at once (Postfix "
      "default_destination_concurrency_limit: 20).",
      [](auto& c) -> auto& { return c.outbound.max_per_domain; }, 1, 1000));
  k.push_back(integer_key(
      "outbound.max_returned_bytes",
      "A delivery report returns the whole original message up to this size, only its "
      "header above it (and always only the header when the sender asked for RET=HDRS).",
      [](auto& c) -> auto& { return c.outbound.max_returned_bytes; }, 0, 1LL << 30));
  // [queue]
  k.push_back(seconds_key(
      "queue.min_backoff_seconds",
      "Wait after the first failed try; it doubles with each further one (Postfix "
      "minimal_backoff_time: 300).",
      [](auto& c) -> auto& { return c.queue.min_backoff; }, 1, 86400));
  k.push_back(seconds_key(
      "queue.max_backoff_seconds", "Longest wait between two tries (Postfix: 4000).",
      [](auto& c) -> auto& { return c.queue.max_backoff; }, 1, 86400));
  k.push_back(seconds_key(
      "queue.lifetime_seconds",
      "A message not delivered after this long is returned to its sender (RFC 5321 "
      "§4.5.4.1: 4–5 days; Postfix maximal_queue_lifetime: 5 days).",
      [](auto& c) -> auto& { return c.queue.lifetime; }, 1, 86400 * 100));
  k.push_back(seconds_key(
      "queue.delay_warning_seconds",
      "A sender who asked for NOTIFY=DELAY hears once that a message is still waiting "
      "after this long; 0 never.",
      [](auto& c) -> auto& { return c.queue.delay_warning; }, 0, 86400 * 100));
  k.push_back(integer_key(
      "queue.poll_interval_ms",
      "How often the queue is checked for messages due (new mail is tried at once).",
      [](auto& c) -> auto& { return c.queue.poll_interval_ms; }, 10, 600000));
  k.push_back(seconds_key(
      "queue.lease_seconds",
      "A message in delivery is claimed for this long; a claim of a server that died is "
      "taken over after it (its own claims are released when it restarts).",
      [](auto& c) -> auto& { return c.queue.lease; }, 60, 86400));
  // [dkim]
  k.push_back(string_key(
      "dkim.key_dir",
      "Directory of the DKIM signing keys, `<domain>/<selector>.rsa.pem` or "
      "`.ed25519.pem` (made by `postino dkim generate`); mail whose From: domain has keys "
      "there is signed when relayed. Empty: `<server.data_dir>/dkim`.",
      [](auto& c) -> auto& { return c.dkim.key_dir; }));
  return k;
}

}  // namespace

const std::vector<Key>& keys() {
  static const std::vector<Key> table = build_keys();
  return table;
}

const Key* find_key(std::string_view name) {
  for (const auto& k : keys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace postino::config
