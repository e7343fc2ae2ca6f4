// Tests for the POP3 session against a real store; work runs inline as the pool would.
#include "pop3/session.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "auth/password.hpp"
#include "base/base64.hpp"
#include "base/dot_stuffer.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::pop3 {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Pop3 : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-pop3-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    store_ = std::move(*store::open_sqlite_store(o));
    ASSERT_TRUE(store_->create_domain("example.test"));
    auto id = store_->create_account("demo@example.test", auth::hash_password("secret"), "");
    ASSERT_TRUE(id);
    demo_ = *id;
    for (const auto* m :
         {"Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\n.dotted\r\nsecond\r\nthird\r\n"}) {
      ASSERT_TRUE(store_->deliver({demo_}, m));
    }
    authenticator_ = std::make_unique<auth::Authenticator>(*store_, throttle_, "s");
  }
  void TearDown() override {
    sessions_.clear();
    authenticator_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  Session& start(bool tls = true, const std::string& address = "192.0.2.1",
                 bool loopback_ok = false) {
    SessionSettings s;
    s.store = store_.get();
    s.authenticator = authenticator_.get();
    s.locks = &locks_;
    s.allow_plaintext_loopback = loopback_ok;
    s.read_ahead_bytes = read_ahead_bytes_;
    net::ClientInfo c;
    c.session_id = "P";
    c.address = address;
    c.is_loopback = address.starts_with("127.");
    c.is_tls = tls;
    sessions_.push_back(std::make_unique<Session>(s, c));
    inputs_.emplace_back();
    return *sessions_.back();
  }
  std::string send(std::string_view bytes, std::size_t which = SIZE_MAX) {
    if (which == SIZE_MAX) which = sessions_.size() - 1;
    auto& input = inputs_[which];
    input += bytes;
    auto out = sessions_[which]->receive(input);
    std::string written;
    for (;;) {
      written += out.bytes;
      if (out.stream) {
        for (std::string piece; !(piece = net::next_piece(out.stream)).empty();) written += piece;
      }
      if (out.after != net::After::work) break;
      if (out.work) out.work();
      out = sessions_[which]->resume(input);
    }
    after_ = out.after;
    return written;
  }
  std::size_t read_ahead_bytes_ = 256 * 1024;
  std::size_t inbox_count() {
    return static_cast<std::size_t>(store_->mailbox(demo_, "INBOX")->messages);
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  store::AccountId demo_;
  auth::FailureThrottle throttle_{{1ms, 2ms, 600s, 100}};
  std::unique_ptr<auth::Authenticator> authenticator_;
  MaildropLocks locks_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::vector<std::string> inputs_;
  net::After after_ = net::After::read;
};

TEST(Pop3Command, KeywordsAndArguments) {
  wire::Command cmd;
  ASSERT_TRUE(wire::parse_command("top 1  10", cmd));
  EXPECT_EQ(cmd.keyword, "TOP");
  ASSERT_EQ(cmd.arguments.size(), 2u);
  EXPECT_EQ(cmd.arguments[1], "10");
  EXPECT_FALSE(wire::parse_command("", cmd));
  EXPECT_FALSE(wire::parse_command("GO", cmd));
  EXPECT_FALSE(wire::parse_command("QUITS", cmd));
  EXPECT_FALSE(wire::parse_command(std::string_view("NO\0P", 4), cmd));
}

TEST_F(Pop3, CapaBeforeAndAfterTls) {
  start(false);
  EXPECT_EQ(send("CAPA\r\n"),
            "+OK Capability list follows\r\nSTLS\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
            "PIPELINING\r\nEXPIRE NEVER\r\nIMPLEMENTATION Postino\r\n.\r\n");
  auto out = send("STLS\r\nCAPA\r\n");
  EXPECT_EQ(out, "+OK Begin TLS negotiation\r\n");
  EXPECT_EQ(after_, net::After::start_tls);
  EXPECT_TRUE(inputs_.back().empty());
  sessions_.back()->tls_started({});
  EXPECT_EQ(
      send("CAPA\r\n"),
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
      "USER\r\nSASL PLAIN LOGIN SCRAM-SHA-256\r\nEXPIRE NEVER\r\nIMPLEMENTATION Postino\r\n.\r\n");
}

TEST_F(Pop3, PlaintextLoginIsRefusedWithoutTlsUnlessLoopbackIsAllowed) {
  start(false);
  EXPECT_EQ(send("USER demo@example.test\r\n"),
            "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n");
  start(false, "127.0.0.1", true);
  EXPECT_EQ(send("USER demo@example.test\r\nPASS secret\r\n"),
            "+OK Send your password\r\n+OK Logged in\r\n");
}

TEST_F(Pop3, StatListUidlRetrTop) {
  start();
  EXPECT_EQ(send("USER demo@example.test\r\nPASS secret\r\n"),
            "+OK Send your password\r\n+OK Logged in\r\n");
  const auto inbox = store_->mailbox(demo_, "INBOX");
  const auto s1 = std::string("Subject: one\r\n\r\nfirst\r\n").size();
  const auto s2 = std::string("Subject: two\r\n\r\n.dotted\r\nsecond\r\nthird\r\n").size();
  EXPECT_EQ(send("STAT\r\n"), "+OK 2 " + std::to_string(s1 + s2) + "\r\n");
  EXPECT_EQ(send("LIST\r\n"), "+OK Scan listing follows\r\n1 " + std::to_string(s1) + "\r\n2 " +
                                  std::to_string(s2) + "\r\n.\r\n");
  char uidl[24];
  std::snprintf(uidl, sizeof uidl, "%08X%08X", 2u, inbox->uid_validity.value);
  EXPECT_EQ(send("UIDL 2\r\n"), std::string("+OK 2 ") + uidl + "\r\n");
  EXPECT_EQ(send("RETR 2\r\n"),
            "+OK " + std::to_string(s2) +
                " octets\r\nSubject: two\r\n\r\n..dotted\r\nsecond\r\nthird\r\n.\r\n");
  EXPECT_EQ(send("TOP 2 1\r\n"), "+OK\r\nSubject: two\r\n\r\n..dotted\r\n.\r\n");
  for (auto bad : {"RETR 0\r\n", "RETR 3\r\n", "RETR 99999999999\r\n", "RETR x\r\n"}) {
    EXPECT_EQ(send(bad), "-ERR No such message\r\n") << bad;
  }
  EXPECT_EQ(send("TOP 1 -1\r\n"), "-ERR Invalid number of lines\r\n");
  EXPECT_EQ(send("USER x\r\n"), "-ERR Command not valid in this state\r\n");
}

TEST_F(Pop3, LargeMessagesAreStreamedInPiecesIdenticalToTheWhole) {
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; i < 60000; ++i)
    big += (i % 7 == 0 ? ".dotted line " : "line ") + std::to_string(i) + "\r\n";
  ASSERT_TRUE(store_->deliver({demo_}, big));
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  inputs_.back() += "RETR 3\r\nNOOP\r\n";
  auto out = sessions_.back()->receive(inputs_.back());
  ASSERT_EQ(out.after, net::After::work);
  out.work();
  out = sessions_.back()->resume(inputs_.back());
  // The reply and the first 256 KiB in one write, the rest in 64 KiB pieces.
  const auto ok = "+OK " + std::to_string(big.size()) + " octets\r\n";
  ASSERT_EQ(out.bytes.substr(0, ok.size()), ok);
  EXPECT_GT(out.bytes.size(), ok.size() + 200000);
  ASSERT_TRUE(out.stream);
  std::string body = out.bytes.substr(ok.size());
  int pieces = 0;
  for (std::string piece; !(piece = net::next_piece(out.stream)).empty(); ++pieces) body += piece;
  EXPECT_GT(pieces, 2);  // more than one 64 KB piece
  EXPECT_EQ(body, base::dot_stuff(big));
  ASSERT_EQ(out.after, net::After::work);  // then the pipelined NOOP is answered
  EXPECT_EQ(sessions_.back()->resume(inputs_.back()).bytes, "+OK\r\n");
}

TEST_F(Pop3, ASmallMessageGoesOutWithItsReplyInOneWrite) {
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  inputs_.back() += "RETR 2\r\n";
  auto out = sessions_.back()->receive(inputs_.back());
  ASSERT_EQ(out.after, net::After::work);
  out.work();
  out = sessions_.back()->resume(inputs_.back());
  EXPECT_FALSE(out.stream);  // no trips to a worker for pieces
  EXPECT_EQ(out.bytes.substr(out.bytes.find("\r\n") + 2),
            "Subject: two\r\n\r\n..dotted\r\nsecond\r\nthird\r\n.\r\n");
}

// A RETR reads the small messages after it in the same trip to the worker pool; the
// commands that then ask for them in order are answered at once, from memory.
TEST_F(Pop3, TheMessagesAfterTheOneAskedForAreReadInTheSameTrip) {
  ASSERT_TRUE(store_->deliver({demo_}, "Subject: three\r\n\r\n.x\r\nmore\r\n"));
  ASSERT_TRUE(
      store_->deliver({demo_}, "Subject: four\r\n\r\n" + std::string(300000, 'y') + "\r\n"));
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  auto ask = [&](const std::string& command) {
    inputs_.back() += command;
    return sessions_.back()->receive(inputs_.back());
  };
  auto out = ask("RETR 1\r\n");
  ASSERT_EQ(out.after, net::After::work);
  out.work();
  out = sessions_.back()->resume(inputs_.back());
  EXPECT_EQ(out.bytes, "+OK 23 octets\r\nSubject: one\r\n\r\nfirst\r\n.\r\n");
  // Every body gone behind the store's back: 2 and 3 were read with 1, 4 (past the
  // budget of 256 KiB) was not.
  for (auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) {
    if (e.is_regular_file()) fs::remove(e.path());
  }
  out = ask("RETR 2\r\n");
  EXPECT_NE(out.after, net::After::work);
  EXPECT_EQ(out.bytes, "+OK 40 octets\r\nSubject: two\r\n\r\n..dotted\r\nsecond\r\nthird\r\n.\r\n");
  out = ask("TOP 3 1\r\n");
  EXPECT_NE(out.after, net::After::work);
  EXPECT_EQ(out.bytes, "+OK\r\nSubject: three\r\n\r\n..x\r\n.\r\n");
  // Each is used once: asked again, it is read again (and is gone now).
  EXPECT_EQ(send("RETR 3\r\n"), "-ERR [SYS/TEMP] Message unavailable, try again later\r\n");
  EXPECT_EQ(send("RETR 4\r\n"), "-ERR [SYS/TEMP] Message unavailable, try again later\r\n");
}

// A client that downloads the maildrop in order makes few trips to the worker pool: each
// read-ahead is twice the one before (from an eighth of pop3.read_ahead_bytes up to all of
// it); one out of order starts again from the first.
TEST_F(Pop3, TheReadAheadGrowsWhileTheClientReadsInOrder) {
  constexpr std::size_t size = 100;
  auto message = [](int n) {
    std::string m = "Subject: " + std::to_string(n) + "\r\n\r\n";
    return m + std::string(size - m.size() - 2, 'z') + "\r\n";
  };
  for (int n = 3; n <= 100; ++n) ASSERT_TRUE(store_->deliver({demo_}, message(n)));
  for (int n = 1; n <= 2; ++n)
    ASSERT_TRUE(store_->expunge(demo_, store_->mailbox(demo_, "INBOX")->id,
                                std::vector<store::Uid>{store::Uid(n)},
                                store::Store::ExpungeScope::listed));
  read_ahead_bytes_ = 64 * size;  // the first read-ahead: 8 messages
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  std::vector<int> trips;  // the messages whose RETR went to the worker pool
  auto retr = [&](int n) {
    inputs_.back() += "RETR " + std::to_string(n) + "\r\n";
    auto out = sessions_.back()->receive(inputs_.back());
    std::string written;
    if (out.after == net::After::work) {
      trips.push_back(n);
      out.work();
      out = sessions_.back()->resume(inputs_.back());
    }
    EXPECT_EQ(out.bytes, "+OK 100 octets\r\n" + message(n + 2) + ".\r\n") << n;
  };
  for (int n = 1; n <= 98; ++n) retr(n);
  // 1 and 8 after it, 10 and 16 after it, 27 and 32, then 60 and the 38 left.
  EXPECT_EQ(trips, (std::vector<int>{1, 10, 27, 60}));
  trips.clear();
  retr(5);  // out of order: 8 after it again
  for (int n = 6; n <= 14; ++n) retr(n);
  EXPECT_EQ(trips, (std::vector<int>{5, 14}));
}

TEST_F(Pop3, ABodyOfAnotherSizeThanListedIsNotServedFromTheReadAhead) {
  ASSERT_TRUE(store_->deliver({demo_}, "Subject: three\r\n\r\nx\r\n"));
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  // Message 2's body changes size behind the store's back after the listing (damage):
  // the read-ahead that RETR 1 makes does not keep it; its own RETR reads what is there.
  for (auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string body{std::istreambuf_iterator<char>(in), {}};
    if (body.rfind("Subject: two", 0) != 0) continue;
    fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "Subject: two\r\n\r\n";
  }
  EXPECT_EQ(send("RETR 1\r\n"), "+OK 23 octets\r\nSubject: one\r\n\r\nfirst\r\n.\r\n");
  inputs_.back() += "RETR 2\r\n";
  auto out = sessions_.back()->receive(inputs_.back());
  ASSERT_EQ(out.after, net::After::work);  // read on its own
  out.work();
  out = sessions_.back()->resume(inputs_.back());
  EXPECT_EQ(out.bytes, "+OK 40 octets\r\nSubject: two\r\n\r\n.\r\n");
}

TEST_F(Pop3, OutOfOrderOrWithoutReadAheadEachMessageIsRead) {
  ASSERT_TRUE(store_->deliver({demo_}, "Subject: three\r\n\r\nx\r\n"));
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  send("RETR 2\r\n");  // reads 3 ahead
  inputs_.back() += "RETR 1\r\n";
  EXPECT_EQ(sessions_.back()->receive(inputs_.back()).after, net::After::work);
  read_ahead_bytes_ = 0;
  sessions_.clear();
  inputs_.clear();
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  send("RETR 1\r\n");
  inputs_.back() += "RETR 2\r\n";
  EXPECT_EQ(sessions_.back()->receive(inputs_.back()).after, net::After::work);
}

TEST_F(Pop3, DeleOnlyMarksQuitCommitsRsetUnmarks) {
  start();
  send("USER demo@example.test\r\nPASS secret\r\n");
  EXPECT_EQ(send("DELE 1\r\n"), "+OK Marked to be deleted\r\n");
  EXPECT_EQ(send("DELE 1\r\n"), "-ERR Message is deleted\r\n");
  EXPECT_EQ(send("RETR 1\r\n"), "-ERR Message is deleted\r\n");
  EXPECT_EQ(send("STAT\r\n").substr(0, 6), "+OK 1 ");
  EXPECT_EQ(send("RSET\r\nSTAT\r\n").substr(0, 11), "+OK\r\n+OK 2 ");
  send("DELE 2\r\n");
  EXPECT_EQ(inbox_count(), 2u);  // nothing removed before QUIT
  EXPECT_EQ(send("QUIT\r\n"), "+OK Postino signing off (1 messages deleted)\r\n");
  EXPECT_EQ(after_, net::After::close);
  EXPECT_EQ(inbox_count(), 1u);
}

TEST_F(Pop3, ADroppedSessionDeletesNothingAndReleasesTheLock) {
  start();
  send("USER demo@example.test\r\nPASS secret\r\nDELE 1\r\nDELE 2\r\n");
  start();
  EXPECT_EQ(
      send("USER demo@example.test\r\nPASS secret\r\n"),
      "+OK Send your password\r\n-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n");
  sessions_.erase(sessions_.begin());  // the connection drops without QUIT
  inputs_.erase(inputs_.begin());
  EXPECT_EQ(inbox_count(), 2u);
  EXPECT_EQ(send("USER demo@example.test\r\nPASS secret\r\n"),
            "+OK Send your password\r\n+OK Logged in\r\n");
}

TEST_F(Pop3, AuthPlainLoginAndFailures) {
  start();
  EXPECT_EQ(send("AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"), "+OK Logged in\r\n");
  start();
  EXPECT_EQ(send("AUTH LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(send("ZGVtb0BleGFtcGxlLnRlc3Q=\r\n"), "+ UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(send("d3Jvbmc=\r\n"), "-ERR [AUTH] Authentication failed\r\n");
  EXPECT_EQ(send("AUTH PLAIN\r\n*\r\n"), "+ \r\n-ERR Authentication aborted\r\n");
  EXPECT_EQ(send("AUTH PLAIN ====\r\n"), "-ERR Cannot decode response\r\n");
  EXPECT_EQ(send("USER demo@example.test\r\nPASS wrong\r\n"),
            "+OK Send your password\r\n-ERR [AUTH] Authentication failed\r\n");
  const auto third = send("USER demo@example.test\r\nPASS wrong again\r\n");
  EXPECT_TRUE(third.ends_with("-ERR Too many failed logins, closing\r\n")) << third;
  EXPECT_EQ(after_, net::After::close);
}

TEST_F(Pop3, AuthScramSha256StartsTheExchangeAndRefusesAWrongProof) {
  start();
  const auto first =
      send("AUTH SCRAM-SHA-256 " + base::base64_encode("n,,n=demo@example.test,r=abc") + "\r\n");
  ASSERT_TRUE(first.starts_with("+ ")) << first;
  const auto server_first = *base::base64_decode(first.substr(2, first.size() - 4));
  EXPECT_TRUE(server_first.starts_with("r=abc"));
  // demo has no SCRAM keys: the decoy exchange goes on and fails at the proof.
  const auto nonce = server_first.substr(2, server_first.find(",s=") - 2);
  const auto bad_final = "c=biws,r=" + nonce + ",p=" + base::base64_encode(std::string(32, 'x'));
  EXPECT_EQ(send(base::base64_encode(bad_final) + "\r\n"), "-ERR [AUTH] Authentication failed\r\n");
}

TEST_F(Pop3, BadCommandsBeforeLoginClose) {
  start(false);
  auto out = send("GET / HTTP/1.1\r\nSTAT\r\nXYZ\r\nNOOP\r\n");
  EXPECT_EQ(
      out,
      "-ERR Unknown command\r\n-ERR Command not valid before login\r\n-ERR Unknown command\r\n"
      "-ERR Too many bad commands, closing\r\n");
  EXPECT_EQ(after_, net::After::close);
}

TEST_F(Pop3, PipelinedCommandsAnswerInOrder) {
  start();
  const auto out =
      send("USER demo@example.test\r\nPASS secret\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n");
  EXPECT_TRUE(out.starts_with("+OK Send your password\r\n+OK Logged in\r\n+OK 2 ")) << out;
  EXPECT_TRUE(out.ends_with("+OK\r\n+OK Postino signing off\r\n")) << out;
}

}  // namespace
}  // namespace postino::pop3
