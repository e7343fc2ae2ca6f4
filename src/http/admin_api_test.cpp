// The admin API against a real store (the session's door is tested in session_test.cpp).
#include "http/admin_api.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_store.hpp"

namespace postino::http {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class AdminApi : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-admin-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    store_ = std::move(*store::open_sqlite_store(o));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  Response call(const std::string& method, const std::string& target, const json& body = {}) {
    return admin_api(*store_, {method, target, body.is_null() ? "" : body.dump()},
                     [this] { ++wakes_; });
  }
  json body(const Response& r) { return json::parse(r.body); }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  int wakes_ = 0;
};

TEST_F(AdminApi, DomainsUsersQuotasAndAliases) {
  EXPECT_EQ(call("POST", "/api/domains", {{"domain", "example.org"}}).status, 201u);
  EXPECT_EQ(call("POST", "/api/domains", {{"domain", "example.org"}}).status, 409u);
  EXPECT_EQ(body(call("GET", "/api/domains")), json::array({"example.org"}));
  EXPECT_EQ(
      call("POST", "/api/users", {{"address", "alice@example.org"}, {"password", "pw"}}).status,
      201u);
  EXPECT_EQ(call("POST", "/api/users", {{"address", "bob@example.org"}}).status, 400u);
  EXPECT_EQ(call("POST", "/api/users", {{"address", "x@nowhere.org"}, {"password", "pw"}}).status,
            404u);
  auto users = body(call("GET", "/api/users?domain=example.org"));
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]["address"], "alice@example.org");
  EXPECT_EQ(call("PUT", "/api/users/alice%40example.org/password", {{"password", "new"}}).status,
            204u);
  auto quota = call("PUT", "/api/users/alice@example.org/quota", {{"bytes", 1000000}});
  EXPECT_EQ(quota.status, 200u);
  EXPECT_EQ(body(quota)["quota_bytes"], 1000000);
  EXPECT_EQ(call("PUT", "/api/users/alice@example.org/quota", {{"bytes", -1}}).status, 400u);
  EXPECT_EQ(body(call("GET", "/api/users/alice@example.org"))["quota_bytes"], 1000000);
  EXPECT_EQ(call("GET", "/api/users/nobody@example.org").status, 404u);
  EXPECT_EQ(call("POST", "/api/aliases",
                 {{"alias", "sales@example.org"}, {"targets", {"alice@example.org"}}})
                .status,
            201u);
  EXPECT_EQ(body(call("GET", "/api/aliases"))[0]["targets"], json::array({"alice@example.org"}));
  EXPECT_EQ(call("DELETE", "/api/aliases/sales@example.org").status, 204u);
  EXPECT_EQ(call("DELETE", "/api/domains/example.org").status, 409u);  // it has a user
  EXPECT_EQ(call("DELETE", "/api/users/alice@example.org").status, 204u);
  EXPECT_EQ(call("DELETE", "/api/domains/example.org").status, 204u);
}

TEST_F(AdminApi, BadRequestsAndUnknownResources) {
  EXPECT_EQ(admin_api(*store_, {"POST", "/api/domains", "{not json"}, {}).status, 400u);
  EXPECT_EQ(admin_api(*store_, {"POST", "/api/domains", "[1]"}, {}).status, 400u);
  EXPECT_EQ(call("GET", "/api/nothing").status, 404u);
  EXPECT_EQ(call("PATCH", "/api/domains").status, 405u);
  EXPECT_EQ(call("GET", "/api/queue/none").status, 404u);
  EXPECT_EQ(call("POST", "/api/queue/none/explode").status, 404u);
  EXPECT_EQ(body(call("GET", "/api/queue")), json::array());
  EXPECT_TRUE(body(call("GET", "/api/nothing")).contains("error"));
}

TEST_F(AdminApi, QueueActionsWakeTheScheduler) {
  ASSERT_TRUE(store_->create_domain("example.org"));
  store::Acceptance a;
  a.remote = store::NewQueueEntry{"alice@example.org", {{"bob@remote.test", "", 0}}, "", 0};
  a.remote_message = "Subject: x\r\n\r\nx\r\n";
  auto accepted = store_->accept(a);
  ASSERT_TRUE(accepted);
  const auto id = accepted->queue_id;
  EXPECT_EQ(body(call("GET", "/api/queue"))[0]["id"], id);
  EXPECT_EQ(call("POST", "/api/queue/" + id + "/hold").status, 200u);
  EXPECT_EQ(wakes_, 0);
  EXPECT_EQ(body(call("GET", "/api/queue/" + id))["held"], true);
  EXPECT_EQ(call("POST", "/api/queue/" + id + "/release").status, 200u);
  EXPECT_EQ(wakes_, 1);
  EXPECT_EQ(call("DELETE", "/api/queue/" + id).status, 200u);
  EXPECT_EQ(call("GET", "/api/queue/" + id).status, 404u);
}

}  // namespace
}  // namespace postino::http
