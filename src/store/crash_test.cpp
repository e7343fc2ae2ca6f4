// Crash safety of the store (RELIABILITY C01/C04, issue: "every save that returned is
// present"): a child process saves messages as fast as it can and reports each one that
// returned; the parent kills it with SIGKILL at a random moment, reopens the store, and
// checks that every reported message is there, intact, with a unique UID below UIDNEXT,
// and that fsck is clean. Twenty rounds on the same store.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "store/sqlite/sqlite_store.hpp"

namespace postino::store {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Store> open_at(const fs::path& dir) {
  SqliteOptions o;
  o.data_dir = dir;
  // The bodies below (0 to 20,000 bytes) are kept in the database (a quarter), the body
  // log (a third, in segments of 256 KiB: several a round) and files: a kill may cut any
  // kind of save.
  o.inline_body_bytes = 5000;
  o.log_body_bytes = 12000;
  o.log_segment_bytes = 256 * 1024;
  auto s = open_sqlite_store(o);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

std::string body_for(int round, int i) {
  std::string body =
      "Subject: round " + std::to_string(round) + " message " + std::to_string(i) + "\r\n\r\n";
  // Sizes vary so that some blobs span many pages.
  body.append(static_cast<std::size_t>((i * 7919) % 20000), static_cast<char>('a' + i % 26));
  return body + "\r\n";
}

[[noreturn]] void save_until_killed(const fs::path& dir, int round, int report_fd) {
  auto store = open_at(dir);
  auto account = store->find_account("demo@example.test");
  if (!account) _exit(3);
  for (int i = 0;; ++i) {
    // Local deliveries and APPENDs both, as SMTP and IMAP would do.
    Result<SavedMessage> saved = make_error(ErrorKind::temporary, "");
    if (i % 3 == 0) {
      auto many = store->deliver({account->id}, body_for(round, i));
      if (many)
        saved = many->front();
      else
        saved = many.error();
    } else {
      saved = store->append(account->id, "INBOX", body_for(round, i), {});
    }
    if (!saved) _exit(4);
    const std::string line = std::to_string(saved->uid.value) + " " + std::to_string(i) + "\n";
    if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
  }
}

TEST(StoreCrash, EveryAcknowledgedSaveSurvivesSigkill) {
  const fs::path dir = fs::temp_directory_path() / ("postino-crash-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    auto store = open_at(dir);
    ASSERT_TRUE(store->create_domain("example.test"));
    ASSERT_TRUE(store->create_account("demo@example.test", "x", ""));
  }
  std::mt19937 rng(12345);
  std::map<std::uint32_t, std::string> acknowledged;  // uid → body
  std::uint32_t uid_validity = 0;
  for (int round = 0; round < 20; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      save_until_killed(dir, round, fds[1]);
    }
    ::close(fds[1]);
    // The kill comes at a random moment once the child has acknowledged its first save
    // (a slow disk must not turn the round into one that saved nothing).
    std::string reports;
    char buf[4096];
    pollfd first{fds[0], POLLIN, 0};
    if (::poll(&first, 1, 20000) == 1) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) reports.append(buf, static_cast<std::size_t>(n));
    }
    ::usleep(std::uniform_int_distribution<int>(0, 200000)(rng));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) reports.append(buf, n);
    ::close(fds[0]);
    std::istringstream lines(reports);
    std::uint32_t uid;
    int i;
    int this_round = 0;
    while (lines >> uid >> i) {
      EXPECT_FALSE(acknowledged.contains(uid)) << "UID " << uid << " handed out twice";
      acknowledged[uid] = body_for(round, i);
      ++this_round;
    }

    auto store = open_at(dir);
    auto account = store->find_account("demo@example.test");
    ASSERT_TRUE(account);
    auto inbox = store->mailbox(account->id, "INBOX");
    ASSERT_TRUE(inbox);
    if (round == 0) uid_validity = inbox->uid_validity.value;
    EXPECT_EQ(inbox->uid_validity.value, uid_validity) << "UIDVALIDITY changed";
    for (const auto& [u, body] : acknowledged) {
      auto bytes = store->read_message(account->id, inbox->id, Uid(u));
      ASSERT_TRUE(bytes) << "round " << round << ": acknowledged UID " << u << " is lost";
      EXPECT_EQ(*bytes, body) << "UID " << u;
      EXPECT_LT(u, inbox->uid_next.value);
    }
    auto report = store->fsck(false);
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->problems.empty()) << "round " << round << ": " << report->problems.front();
    EXPECT_TRUE(fs::is_empty(dir / "blobs" / "tmp")) << "temporary files survived recovery";
    EXPECT_GT(this_round, 0) << "round " << round << " saved nothing before the kill";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace postino::store
