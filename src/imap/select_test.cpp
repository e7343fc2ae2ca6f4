// SELECT answers from the mailbox's counts (Store::mailbox_summary) and reads the message
// list once its answer is on the way: what other sessions change in between is told at
// the next poll, as of the answer.
#include <gtest/gtest.h>

#include "imap/session_fixture.hpp"
#include "store/page_cache_test_support.hpp"

namespace postino::imap {
namespace {

using test_support::ImapLogin;

TEST_F(ImapLogin, SelectAnswersFirstAndTheListIsAsItAnswered) {
  const auto demo = demo_id();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_->append(demo, "INBOX", "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n",
                               {{i <= 2 ? store::flag_seen : 0u, {}}, {}}));
  }
  const auto inbox = store_->mailbox(demo, "INBOX")->id;
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  bool meanwhile = false;
  before_stream_ = [&] {
    // Another session expunges message 3, flags message 4, and a message arrives.
    meanwhile = true;
    ASSERT_TRUE(store_->expunge(demo, inbox, std::vector<store::Uid>{store::Uid(3)},
                                store::Store::ExpungeScope::listed));
    ASSERT_TRUE(store_->store_flags(demo, inbox, {store::Uid(4)}, store::Store::FlagChange::add,
                                    {store::flag_flagged, {}}));
    ASSERT_TRUE(store_->deliver({demo}, "Subject: 6\r\n\r\nx\r\n"));
  };
  const auto selected = send("b SELECT INBOX\r\n");
  EXPECT_TRUE(meanwhile);  // the list was read after the answer
  EXPECT_NE(selected.find("* 5 EXISTS\r\n"), std::string::npos) << selected;
  EXPECT_NE(selected.find("* OK [UNSEEN 3] First unseen\r\n"), std::string::npos) << selected;
  EXPECT_NE(selected.find("* OK [UIDNEXT 6] "), std::string::npos) << selected;
  // The session's list is the one it told of: message 3 is still number 3 until the poll
  // says it is gone, and the new one comes after.
  EXPECT_EQ(send("c FETCH 5 (UID)\r\n"), "* 5 FETCH (UID 5)\r\nc OK FETCH completed\r\n");
  EXPECT_EQ(send("d NOOP\r\n"), "* 3 EXPUNGE\r\n* 5 EXISTS\r\nd OK NOOP completed\r\n");
  EXPECT_EQ(send("e FETCH 1:* (UID FLAGS)\r\n"),
            "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n"
            "* 3 FETCH (UID 4 FLAGS (\\Flagged))\r\n* 4 FETCH (UID 5 FLAGS ())\r\n"
            "* 5 FETCH (UID 6 FLAGS ())\r\ne OK FETCH completed\r\n");
}

// Keywords set on a message are in FLAGS and PERMANENTFLAGS, and stay once taken off (as
// Dovecot keeps them): a client's list of tags does not lose one while no message has it.
TEST_F(ImapLogin, SelectListsTheKeywordsDefinedInTheMailbox) {
  const auto demo = demo_id();
  ASSERT_TRUE(store_->append(demo, "INBOX", "Subject: 1\r\n\r\nx\r\n", {{0, {"$Work"}}, {}}));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  send("c STORE 1 FLAGS (\\Seen $Later)\r\n");
  const auto again = send("d SELECT INBOX\r\n");
  EXPECT_NE(again.find("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Later $Work)\r\n"),
            std::string::npos)
      << again;
  EXPECT_NE(again.find("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
                       "$Later $Work \\*)] Flags permitted\r\n"),
            std::string::npos)
      << again;
  EXPECT_EQ(again.find("UNSEEN"), std::string::npos) << again;
  EXPECT_EQ(send("e FETCH 1 (FLAGS)\r\n"),
            "* 1 FETCH (FLAGS (\\Seen $Later))\r\ne OK FETCH completed\r\n");
}

// A mailbox deleted between the answer and the reading of its list cannot be shown as
// answered: the session says so and ends (the client selects it again, and is told NO).
TEST_F(ImapLogin, SelectOfAMailboxDeletedBeforeItsListIsReadSaysBye) {
  const auto demo = demo_id();
  ASSERT_TRUE(store_->create_mailbox(demo, "Work", store::SpecialUse::none));
  ASSERT_TRUE(store_->append(demo, "Work", "Subject: 1\r\n\r\nx\r\n", {}));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  before_stream_ = [&] { ASSERT_TRUE(store_->delete_mailbox(demo, "Work")); };
  const auto selected = send("b SELECT Work\r\n");
  EXPECT_NE(selected.find("* 1 EXISTS\r\n"), std::string::npos) << selected;
  EXPECT_NE(selected.find("b OK [READ-WRITE] SELECT completed\r\n* BYE [UNAVAILABLE] "),
            std::string::npos)
      << selected;
  EXPECT_EQ(after_, net::After::close);
}

// A trip to a worker thread and back costs more than reading a mailbox's summary from
// memory: SELECT of a mailbox selected lately is answered on the session's loop unless the
// read would wait for the disk (store/no_wait.hpp), and then on a worker, with the same
// answer.
TEST_F(ImapLogin, SelectIsAnsweredWithoutAWorkerUnlessTheStoreWouldWait) {
  const auto demo = demo_id();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(store_->deliver({demo}, "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n"));
  }
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  // A mailbox not selected lately: its pages are likely on the disk, a worker reads them.
  input_ += "a SELECT INBOX\r\n";
  auto out = session_->receive(input_);
  ASSERT_TRUE(out.work);
  out.work();
  out = session_->resume(input_);
  EXPECT_NE(out.bytes.find("a OK [READ-WRITE] SELECT completed\r\n"), std::string::npos);
  ASSERT_TRUE(out.stream);
  EXPECT_EQ(net::next_piece(out.stream), "");
  EXPECT_EQ(session_->resume(input_).after, net::After::read);

  input_ += "b SELECT INBOX\r\n";
  out = session_->receive(input_);
  EXPECT_FALSE(out.work);
  EXPECT_NE(out.bytes.find("* 2 EXISTS\r\n"), std::string::npos) << out.bytes;
  EXPECT_NE(out.bytes.find("b OK [READ-WRITE] SELECT completed\r\n"), std::string::npos);
  ASSERT_TRUE(out.stream);  // the list, read after the answer
  EXPECT_EQ(net::next_piece(out.stream), "");
  EXPECT_EQ(session_->resume(input_).after, net::After::read);
  // INBOX in any case is the same mailbox (RFC 3501 §5.1).
  input_ += "b2 SELECT inbox\r\n";
  out = session_->receive(input_);
  EXPECT_FALSE(out.work);
  EXPECT_NE(out.bytes.find("b2 OK [READ-WRITE] SELECT completed\r\n"), std::string::npos);
  ASSERT_TRUE(out.stream);
  EXPECT_EQ(net::next_piece(out.stream), "");
  EXPECT_EQ(session_->resume(input_).after, net::After::read);

  // A commit makes the store's readers read their pages again, and those are not in
  // memory any more: the answer comes from a worker.
  ASSERT_TRUE(store_->deliver({demo}, "Subject: 3\r\n\r\nx\r\n"));
  if (!store::test_support::evict_store_from_page_cache(dir_)) {
    GTEST_SKIP() << "this file system keeps the pages of its files";
  }
  input_ += "c SELECT INBOX\r\n";
  out = session_->receive(input_);
  ASSERT_EQ(out.after, net::After::work);
  ASSERT_TRUE(out.work);
  EXPECT_EQ(out.bytes.find("c OK"), std::string::npos);
  out.work();
  out = session_->resume(input_);
  EXPECT_NE(out.bytes.find("* 3 EXISTS\r\n"), std::string::npos) << out.bytes;
  EXPECT_NE(out.bytes.find("c OK [READ-WRITE] SELECT completed\r\n"), std::string::npos);
}

// LOGIN reads INBOX's summary before it answers (commands/login.cpp): the SELECT most
// clients send next finds its pages in memory and is answered on the session's loop, even
// when they had left memory since the mailbox was last selected.
TEST_F(ImapLogin, LoginBringsInboxBackIntoMemoryForTheSelectAfterIt) {
  const auto demo = demo_id();
  ASSERT_TRUE(store_->deliver({demo}, "Subject: 1\r\n\r\nx\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");  // selected lately: the server keeps its list
  send("c LOGOUT\r\n");
  // A commit makes the store's readers read their pages again, and those leave memory.
  ASSERT_TRUE(store_->deliver({demo}, "Subject: 2\r\n\r\nx\r\n"));
  if (!store::test_support::evict_store_from_page_cache(dir_)) {
    GTEST_SKIP() << "this file system keeps the pages of its files";
  }
  start(true);
  send("d LOGIN demo@example.test secret\r\n");
  input_ += "e SELECT INBOX\r\n";
  auto out = session_->receive(input_);
  EXPECT_FALSE(out.work);
  EXPECT_NE(out.bytes.find("* 2 EXISTS\r\n"), std::string::npos) << out.bytes;
  EXPECT_NE(out.bytes.find("e OK [READ-WRITE] SELECT completed\r\n"), std::string::npos);
}

// LOGIN's read of INBOX is thrown away: the SELECT after it shows the mailbox as it is when
// the SELECT comes, with what was delivered in between (here on the loop, the mailbox
// having been selected lately).
TEST_F(ImapLogin, SelectAfterLoginShowsWhatArrivedSinceTheLogin) {
  const auto demo = demo_id();
  ASSERT_TRUE(store_->deliver({demo}, "Subject: 1\r\n\r\nx\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  send("c LOGOUT\r\n");
  start(true);
  send("d LOGIN demo@example.test secret\r\n");
  ASSERT_TRUE(store_->deliver({demo}, "Subject: 2\r\n\r\nx\r\n"));
  const auto selected = send("e SELECT INBOX\r\n");
  EXPECT_NE(selected.find("* 2 EXISTS\r\n"), std::string::npos) << selected;
  EXPECT_NE(selected.find("* OK [UIDNEXT 3] "), std::string::npos) << selected;
}

}  // namespace
}  // namespace postino::imap
