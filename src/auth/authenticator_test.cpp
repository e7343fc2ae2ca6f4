// Tests for the authentication service against a real store.
#include "auth/authenticator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "auth/password.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::auth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Status = LoginResult::Status;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-auth-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    store_ = std::move(*store::open_sqlite_store(o));
    ASSERT_TRUE(store_->create_domain("example.test"));
    ASSERT_TRUE(store_->create_account("demo@example.test", hash_password("right"),
                                       ScramCredentials::derive("right").str()));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  FailureThrottle throttle_{{2000ms, 15000ms, 600s, 1000}};
};

TEST_F(AuthenticatorTest, RightPasswordLogsInWrongOnesAreSlowedDown) {
  Authenticator auth(*store_, throttle_, "secret");
  auto ok = auth.check_password("Demo@Example.Test", "right", "192.0.2.1", "S1");
  ASSERT_EQ(ok.status, Status::ok);
  EXPECT_EQ(ok.account->address, "demo@example.test");
  EXPECT_EQ(ok.delay, 0ms);
  auto bad = auth.check_password("demo@example.test", "wrong1", "192.0.2.1", "S1");
  EXPECT_EQ(bad.status, Status::failed);
  EXPECT_EQ(bad.delay, 2000ms);
  EXPECT_EQ(auth.check_password("demo@example.test", "wrong2", "192.0.2.1", "S1").delay, 4000ms);
  // The right password from elsewhere still works at once (no victim lockout).
  EXPECT_EQ(auth.check_password("demo@example.test", "right", "198.51.100.7", "S2").status,
            Status::ok);
}

TEST_F(AuthenticatorTest, UnknownUsersAndMalformedPasswordsFailLikeWrongPasswords) {
  Authenticator auth(*store_, throttle_, "secret");
  EXPECT_EQ(auth.check_password("nobody@example.test", "x", "192.0.2.1", "S").status,
            Status::failed);
  EXPECT_EQ(auth.check_password("not an address", "x", "192.0.2.2", "S").status, Status::failed);
  EXPECT_EQ(
      auth.check_password("demo@example.test", std::string_view("right\0x", 7), "192.0.2.3", "S")
          .status,
      Status::failed);
  EXPECT_EQ(auth.check_password("demo@example.test", "", "192.0.2.4", "S").status, Status::failed);
  EXPECT_EQ(auth.check_password("demo' OR '1'='1", "x", "192.0.2.5", "S").status, Status::failed);
}

TEST_F(AuthenticatorTest, UnknownUsersCostAPasswordHashToo) {
  // RELIABILITY A03: without the dummy hash an unknown user would answer in microseconds.
  Authenticator auth(*store_, throttle_, "secret");
  auto median = [&](const char* login) {
    std::vector<double> ms;
    for (int i = 0; i < 7; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auth.check_password(login, "wrong" + std::to_string(i), "203.0.113." + std::to_string(i),
                          "S");
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[3];
  };
  const double known = median("demo@example.test");
  const double unknown = median("nobody@example.test");
  EXPECT_GT(unknown, known * 0.5) << "known " << known << " ms, unknown " << unknown << " ms";
}

TEST_F(AuthenticatorTest, ScramKeysForUsersAndDecoysForEveryoneElse) {
  Authenticator auth(*store_, throttle_, "secret");
  const auto keys = auth.scram_credentials("demo@example.test");
  EXPECT_EQ(keys.str(), store_->find_account("demo@example.test")->scram);
  const auto decoy = auth.scram_credentials("nobody@example.test");
  EXPECT_EQ(decoy.str(), auth.scram_credentials("nobody@example.test").str());
  EXPECT_EQ(decoy.iterations, keys.iterations);
  // A full exchange with the right password succeeds.
  ScramServer server;
  ASSERT_EQ(server.receive_client_first("n,,n=demo@example.test,r=clientnonce"),
            "demo@example.test");
  server.server_first(keys, "servernonce");
  EXPECT_EQ(auth.finish_scram("demo@example.test", true, "192.0.2.1", "S").status, Status::ok);
  EXPECT_EQ(auth.finish_scram("demo@example.test", false, "192.0.2.1", "S").status, Status::failed);
}

}  // namespace
}  // namespace postino::auth
