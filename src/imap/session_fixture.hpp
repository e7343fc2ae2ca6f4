// The fixture of the IMAP session tests that need a store and logins: a SQLite store
// in a temporary directory with demo@example.test (password "secret"), and a session
// driven as net/ drives it (work run inline, streamed pieces collected).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <utility>

#include "auth/password.hpp"
#include "imap/session.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::imap::test_support {

// What CAPABILITY lists after login (RFC 3501 §7.2.1), with the default APPENDLIMIT.
inline const std::string logged_in_capabilities =
    "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE CHILDREN NAMESPACE UNSELECT MOVE UIDPLUS "
    "SPECIAL-USE "
    "CREATE-SPECIAL-USE STATUS=SIZE CONDSTORE QRESYNC QUOTA ESEARCH SEARCHRES SORT "
    "THREAD=ORDEREDSUBJECT THREAD=REFERENCES LIST-EXTENDED LIST-STATUS "
    "BINARY UTF8=ACCEPT COMPRESS=DEFLATE APPENDLIMIT=52428800";

class ImapLogin : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("postino-imap-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    o.text_index_quiet = std::chrono::milliseconds(0);  // tests index when they ask
    store_ = std::move(*store::open_sqlite_store(o));
    ASSERT_TRUE(store_->create_domain("example.test"));
    ASSERT_TRUE(store_->create_account("demo@example.test", auth::hash_password("secret"), ""));
    authenticator_ = std::make_unique<auth::Authenticator>(*store_, throttle_, "s");
  }
  void TearDown() override {
    session_.reset();
    authenticator_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  store::AccountId demo_id() { return store_->find_account("demo@example.test")->id; }
  // Five messages in INBOX ("Subject: 0" to "4"), 2, 4 and 5 flagged, selected by a
  // logged-in session.
  void five_selected_three_flagged() {
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n"));
    }
    start(true);
    send("a LOGIN demo@example.test secret\r\n");
    send("b SELECT INBOX\r\n");
    send("c STORE 2,4:5 +FLAGS.SILENT (\\Flagged)\r\n");
  }
  void start(bool tls, bool loopback = false, bool allow_plaintext_loopback = false,
             std::int64_t max_bad_commands = 20) {
    SessionSettings s;
    s.store = store_.get();
    s.authenticator = authenticator_.get();
    s.max_bad_commands = max_bad_commands;
    s.allow_plaintext_loopback = allow_plaintext_loopback;
    s.views = views_;  // one for all sessions, as a server has
    net::ClientInfo c;
    c.address = loopback ? "127.0.0.1" : "192.0.2.5";
    c.is_loopback = loopback;
    c.is_tls = tls;
    session_ = std::make_unique<Session>(s, c);
    input_.clear();
  }
  std::string send(std::string_view bytes) {
    input_ += bytes;
    auto out = session_->receive(input_);
    std::string written = out.bytes;
    while (out.after == net::After::work) {
      if (out.stream) {
        // As net/ does: the pieces of a large response until "", then resume().
        if (before_stream_) std::exchange(before_stream_, nullptr)();
        for (std::string piece;;) {
          piece.clear();
          out.stream(piece);
          if (piece.empty()) break;
          written += piece;
          ++pieces_;
          largest_piece_ = std::max(largest_piece_, piece.size());
        }
      } else {
        out.work();
      }
      out = session_->resume(input_);
      written += out.bytes;
    }
    after_ = out.after;
    return written;
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<MailboxViews> views_ = std::make_shared<MailboxViews>(1'000'000);
  auth::FailureThrottle throttle_{
      {std::chrono::milliseconds(1), std::chrono::milliseconds(2), std::chrono::seconds(600), 100}};
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Session> session_;
  std::string input_;
  net::After after_ = net::After::read;
  // Run once, after the next response's first bytes and before its stream: what other
  // sessions do meanwhile.
  std::function<void()> before_stream_;
  int pieces_ = 0;                 // streamed pieces so far
  std::size_t largest_piece_ = 0;  // bytes of the largest of them
};

}  // namespace postino::imap::test_support
