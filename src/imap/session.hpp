// The IMAP server session (RFC 3501 §3, §6): an explicit state machine with one table of
// commands and the states they are allowed in. It never touches a socket; net/ drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "auth/authenticator.hpp"
#include "auth/scram.hpp"
#include "imap/mailbox_views.hpp"
#include "imap/message_view.hpp"
#include "imap/wire/receiver.hpp"
#include "imap/wire/sequence_set.hpp"
#include "net/session.hpp"
#include "store/notifier.hpp"
#include "store/store.hpp"

namespace postino::imap {

namespace sort {
struct Item;
}

struct SessionSettings {
  std::size_t max_line_bytes = 65536;
  std::size_t max_line_bytes_preauth = 8192;
  std::chrono::seconds idle_timeout{1800};
  std::chrono::seconds preauth_timeout{60};
  std::int64_t max_bad_commands_preauth = 3;
  std::int64_t max_bad_commands = 20;  // after login (Dovecot closes after 20)
  std::int64_t max_auth_failures = 3;
  std::size_t max_append_bytes = 50 * 1024 * 1024;  // largest literal after login (APPEND)
  // LOGIN and AUTHENTICATE without TLS for clients on loopback addresses.
  bool allow_plaintext_loopback = false;
  store::Store* store = nullptr;
  auth::Authenticator* authenticator = nullptr;
  // Changes to the mailbox an IDLE session watches (RFC 2177); null: IDLE sees changes
  // only when it ends.
  store::ChangeNotifier* notifier = nullptr;
  // The message lists of recently selected mailboxes, shared by the server's sessions
  // (imap.view_cache_messages).
  std::shared_ptr<MailboxViews> views = std::make_shared<MailboxViews>(1'000'000);
};

class Session final : public net::ProtocolSession {
 public:
  // RFC 3501 §3. The selected state arrives with the mailbox commands.
  struct NotAuthenticated {};
  struct Authenticated {
    store::Account account;
  };
  struct Selected {
    store::Account account;
    store::MailboxInfo mailbox;
    bool is_read_only = false;
    MessageView messages;  // this session's view: index + 1 = sequence number
    // SEARCHRES (RFC 5182): the UIDs a SEARCH RETURN (SAVE) kept, ascending, for "$".
    // A new selection starts with none; expunged messages simply stop matching.
    std::vector<std::uint32_t> saved;
  };
  using State = std::variant<NotAuthenticated, Authenticated, Selected>;

  Session(SessionSettings settings, net::ClientInfo client);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  net::Output greet() override;
  net::Output receive(std::string& input) override;
  net::Output resume(std::string& input) override;
  void tls_started(const net::TlsInfo& info) override;
  std::string timeout_reply() override;
  std::string shutdown_reply() override;
  std::chrono::seconds idle_timeout() const override;
  void set_waker(std::function<void()> wake) override { waker_ = std::move(wake); }
  net::Output woken(std::string& input) override;

  // The CAPABILITY list as it stands now (it changes with TLS and login).
  std::string capabilities() const;
  const State& state() const { return state_; }

 private:
  struct CommandSpec;
  static const CommandSpec* find_command(std::string_view name);

  net::Output process(std::string& input, net::Output out);
  void handle(const wire::Command& cmd, net::Output& out);
  void record_duration(const std::string& command, std::chrono::steady_clock::time_point began);
  void bad(std::string_view tag, std::string_view text, net::Output& out);
  void capability(const wire::Command& cmd, net::Output& out);
  void noop(const wire::Command& cmd, net::Output& out);
  void logout(const wire::Command& cmd, net::Output& out);
  void starttls(const wire::Command& cmd, net::Output& out);
  // commands/client.cpp
  void id(const wire::Command& cmd, net::Output& out);
  void enable(const wire::Command& cmd, net::Output& out);
  void compress(const wire::Command& cmd, net::Output& out);
  // commands/login.cpp
  void login(const wire::Command& cmd, net::Output& out);
  void authenticate(const wire::Command& cmd, net::Output& out);
  void sasl_response(std::string_view line, net::Output& out);
  void scram_response(std::string_view decoded, net::Output& out);
  void check_password(std::string tag, std::string username, std::string password,
                      net::Output& out);
  // On the worker pool: the outcome of a login, as the tagged reply in work_.
  void finish_login(const std::string& tag, auth::LoginResult result);
  void warm_inbox(store::AccountId account);
  bool may_use_plaintext() const;
  // commands/mailboxes.cpp
  store::AccountId account_id() const;
  std::optional<std::string> mailbox_argument(const wire::Command& cmd, std::size_t index,
                                              net::Output& out);
  void store_command(const wire::Command& cmd, std::string what,
                     std::function<store::Result<void>()> op, net::Output& out);
  void create(const wire::Command& cmd, net::Output& out);
  void delete_mailbox(const wire::Command& cmd, net::Output& out);
  void rename(const wire::Command& cmd, net::Output& out);
  void subscribe(const wire::Command& cmd, net::Output& out);
  void list(const wire::Command& cmd, net::Output& out);
  void status(const wire::Command& cmd, net::Output& out);
  // STATUS items (also LIST RETURN (STATUS …)); nullopt when malformed.
  std::optional<std::vector<std::string>> status_items(const wire::Token& list);
  std::string status_line(const store::MailboxInfo& box,
                          const std::vector<std::string>& items) const;
  // Mailbox names on the wire: modified UTF-7, or UTF-8 once UTF8=ACCEPT is enabled
  // (RFC 6855 §3); the store keeps UTF-8. nullopt for a name not validly encoded.
  std::optional<std::string> name_from_wire(std::string_view name) const;
  std::string name_to_wire(std::string_view name) const;
  void namespace_command(const wire::Command& cmd, net::Output& out);
  void getquotaroot(const wire::Command& cmd, net::Output& out);
  void getquota(const wire::Command& cmd, net::Output& out);
  void setquota(const wire::Command& cmd, net::Output& out);
  // commands/select.cpp
  void select(const wire::Command& cmd, net::Output& out);
  struct SelectRequest;
  // SELECT's or EXAMINE's answer from the mailbox's summary, into work_.
  void answer_select(store::Result<store::MailboxSummary> summary, const SelectRequest& request);
  // On the worker pool: the list of the mailbox SELECT answered for, as it answered.
  std::optional<MessageView> list_as_told(const store::Account& account,
                                          const store::MailboxInfo& told);
  void close(const wire::Command& cmd, net::Output& out);
  void check(const wire::Command& cmd, net::Output& out);
  void expunge(const wire::Command& cmd, net::Output& out);
  void uid_expunge(const wire::Command& cmd, net::Output& out);
  // EXPUNGE and UID EXPUNGE: the \Deleted messages (of the UID set, when given).
  void expunge_messages(const std::string& tag, std::optional<wire::SequenceSet> uid_set,
                        std::string what, net::Output& out);
  void uid(const wire::Command& cmd, net::Output& out);
  // SELECT (QRESYNC (uidvalidity modseq [known-uids])) (RFC 7162 §3.2.5).
  struct Resync {
    std::uint32_t uid_validity = 0;
    std::uint64_t modseq = 0;
    std::optional<wire::SequenceSet> known;
  };
  static std::optional<Resync> parse_resync(const std::vector<wire::Token>& values);
  struct SelectRequest {
    std::string tag;
    std::string name;
    bool read_only = false;
    store::Account account;
    std::optional<Resync> resync;
  };
  // On the worker pool: brings the selected view up to date and writes what changed
  // (EXPUNGE, EXISTS, FETCH FLAGS) into work_.
  void refresh_selected();
  // " MODSEQ (n)" for an untagged FETCH once CONDSTORE is on, "" before.
  std::string modseq_item(store::ModSeq modseq) const {
    return condstore_ ? " MODSEQ (" + std::to_string(modseq.value) + ")" : std::string();
  }
  // commands/idle.cpp
  void idle(const wire::Command& cmd, net::Output& out);
  // The line after IDLE: DONE ends it, anything else is a protocol error.
  void idle_line(std::string_view line, net::Output& out);
  void stop_watching();
  // commands/append.cpp
  void append(const wire::Command& cmd, net::Output& out);
  void copy(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid, bool move);
  void copy_by_sequence(const wire::Command& cmd, net::Output& out) {
    copy(cmd, 0, out, false, false);
  }
  void move_by_sequence(const wire::Command& cmd, net::Output& out) {
    copy(cmd, 0, out, false, true);
  }
  // commands/search.cpp
  // Search keys (RFC 3501 §6.4.4), parsed; shared by SEARCH, SORT and THREAD.
  struct SearchQuery;
  using FieldsByUid = std::unordered_map<std::uint32_t, const mime::EnvelopeFields*>;
  // The selected mailbox's envelope fields, loaded in one query (not copied or moved:
  // `by_uid` points into `list`).
  struct MailboxFields {
    MailboxFields() = default;
    MailboxFields(const MailboxFields&) = delete;
    MailboxFields& operator=(const MailboxFields&) = delete;
    std::vector<std::pair<store::Uid, mime::EnvelopeFields>> list;
    FieldsByUid by_uid;
  };
  // Of the messages of `only` (ascending UIDs) when given.
  store::Result<void> load_fields(MailboxFields& into,
                                  const std::vector<store::Uid>* only = nullptr) const;
  // BAD written and null when the keys are malformed.
  std::shared_ptr<SearchQuery> parse_search(const wire::Command& cmd,
                                            const std::vector<wire::Token>& tokens,
                                            net::Output& out);
  // The keys are the command's arguments from `first` on.
  std::shared_ptr<SearchQuery> parse_search(const wire::Command& cmd, std::size_t first,
                                            net::Output& out) {
    return parse_search(
        cmd,
        std::vector<wire::Token>(cmd.arguments.begin() + static_cast<std::ptrdiff_t>(first),
                                 cmd.arguments.end()),
        out);
  }
  // On the worker pool: the positions in the selected view of the messages that match;
  // `fields`, when given, are the mailbox's envelope fields already loaded.
  std::vector<std::size_t> run_search(SearchQuery& query, const FieldsByUid* fields);
  // True when a key is MODSEQ (RFC 7162 §3.1.5): the answer carries the highest one found.
  static bool uses_modseq(const SearchQuery& query);
  // UTF-8 and US-ASCII; anything else answered NO [BADCHARSET].
  bool known_charset(const wire::Command& cmd, std::string_view charset, net::Output& out);
  // A sequence-set argument, or "$" (RFC 5182): the saved result as UIDs, or as this
  // view's sequence numbers. nullopt when malformed.
  std::optional<wire::SequenceSet> message_set(std::string_view text, bool by_uid) const;
  void search(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid);
  void search_by_sequence(const wire::Command& cmd, net::Output& out) {
    search(cmd, 0, out, false);
  }
  // commands/sort.cpp: SORT and THREAD (RFC 5256).
  void sort(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid);
  // On the worker pool: the messages that match, as SORT and THREAD see them, and the
  // highest mod-sequence among them.
  store::Result<std::vector<sort::Item>> matching_items(SearchQuery& query, bool by_uid,
                                                        std::uint64_t& highest_modseq);
  void thread(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid);
  void sort_by_sequence(const wire::Command& cmd, net::Output& out) { sort(cmd, 0, out, false); }
  void thread_by_sequence(const wire::Command& cmd, net::Output& out) {
    thread(cmd, 0, out, false);
  }
  // commands/fetch.cpp
  void fetch(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid);
  void store_flags(const wire::Command& cmd, std::size_t first, net::Output& out, bool by_uid);
  void fetch_by_sequence(const wire::Command& cmd, net::Output& out) { fetch(cmd, 0, out, false); }
  void store_by_sequence(const wire::Command& cmd, net::Output& out) {
    store_flags(cmd, 0, out, false);
  }

  SessionSettings settings_;
  net::ClientInfo client_;
  wire::Receiver receiver_;
  State state_ = NotAuthenticated{};
  bool is_tls_ = false;
  std::int64_t bad_commands_ = 0;
  std::int64_t auth_failures_ = 0;
  // An AUTHENTICATE exchange waiting for the client's next response line.
  struct SaslExchange {
    std::string tag;
    std::string mechanism;  // "PLAIN", "LOGIN" or "SCRAM-SHA-256"
    std::string username;   // LOGIN: after the first response
    std::shared_ptr<auth::ScramExchange> scram;
  };
  std::optional<SaslExchange> sasl_;
  net::WorkResult work_;
  bool stream_failed_ = false;  // a streamed response could not be completed: close
  // IDLE (RFC 2177): the command's tag while it runs, and the notifier subscription that
  // wakes the connection when the selected mailbox changes.
  std::optional<std::string> idle_tag_;
  // CONDSTORE (RFC 7162) enabled: by ENABLE or by the first command that uses a MODSEQ;
  // from then on SELECT reports HIGHESTMODSEQ and flag updates carry MODSEQ.
  bool condstore_ = false;
  // QRESYNC (RFC 7162 §3.2) enabled: expunges are told as VANISHED, SELECT can resync.
  bool qresync_ = false;
  bool compressed_ = false;  // COMPRESS=DEFLATE (RFC 4978) is on
  // The input not consumed yet while commands are handled (COMPRESS looks at it).
  const std::string* unread_ = nullptr;
  bool utf8_accept_ = false;  // ENABLE UTF8=ACCEPT (RFC 6855): names and strings in UTF-8
  // ENABLE IMAP4rev2 (RFC 9051): UTF-8 names, ESEARCH answers to SEARCH, SELECT without
  // RECENT and UNSEEN but with its LIST, CLOSED when a selection ends.
  bool rev2_ = false;
  std::function<void()> waker_;
  std::optional<store::ChangeNotifier::Token> watch_;
  // The command whose work is running, and when it began (for its duration metric).
  std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>> timing_;
};

}  // namespace postino::imap
