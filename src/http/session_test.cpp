// Tests for the HTTP session against a real store; work runs inline as the pool would.
#include "http/session.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/metrics.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::http {
namespace {

namespace fs = std::filesystem;

class Http : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-http-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    store_ = std::move(*store::open_sqlite_store(o));
    ASSERT_TRUE(store_->create_domain("example.org"));
  }
  void TearDown() override {
    session_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  Session& start(bool trusted = true, MtaStsPolicy policy = {}, std::string token = "") {
    SessionSettings s;
    s.store = store_.get();
    s.max_header_bytes = 1024;
    s.max_body_bytes = 2048;
    s.mta_sts = std::move(policy);
    s.admin_token = std::move(token);
    s.services = std::make_shared<MailServices>(
        MailServices{"mail.example.org", {{MailService::Kind::imap, 993, true}}});
    net::ClientInfo c;
    c.session_id = "H";
    c.address = trusted ? "127.0.0.1" : "192.0.2.1";
    c.is_trusted = trusted;
    c.is_loopback = trusted;
    session_ = std::make_unique<Session>(s, c);
    return *session_;
  }
  // Feeds `input` and runs any work inline until the session waits for input or closes.
  std::string exchange(std::string input, net::After* last = nullptr) {
    std::string out;
    auto o = session_->receive(input);
    for (;;) {
      out += o.bytes;
      if (o.after == net::After::work) {
        if (o.work) o.work();
        o = session_->resume(input);
        continue;
      }
      if (last) *last = o.after;
      return out;
    }
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Session> session_;
};

TEST_F(Http, HealthAnswersOkWhenTheStoreDoes) {
  start();
  net::After after{};
  const auto out = exchange("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", &after);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nok\r\n")) << out;
  EXPECT_EQ(after, net::After::read);  // HTTP/1.1 keeps the connection
}

TEST_F(Http, PipelinedRequestsAreAnsweredInOrderAndConnectionCloseIsHonoured) {
  start();
  net::After after{};
  const auto out = exchange(
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      &after);
  const auto first = out.find("HTTP/1.1 200 OK");
  const auto second = out.find("HTTP/1.1 404 Not Found");
  const auto third = out.find("HTTP/1.1 200 OK", first + 1);
  ASSERT_NE(third, std::string::npos) << out;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_TRUE(out.ends_with("Content-Length: 4\r\n\r\n")) << out;  // HEAD: no body
  EXPECT_EQ(after, net::After::close);
}

TEST_F(Http, RequestsArrivingInPiecesAreAssembled) {
  start();
  std::string input = "GET /hea";
  auto o = session_->receive(input);
  EXPECT_TRUE(o.bytes.empty());
  EXPECT_EQ(o.after, net::After::read);
  input += "lth HTTP/1.0\r\n\r\n";
  EXPECT_NE(exchange(input).find("HTTP/1.0 200 OK"), std::string::npos);
}

TEST_F(Http, MalformedAndOversizedRequestsGetTheirStatusAndClose) {
  start();
  net::After after{};
  EXPECT_TRUE(exchange("BLAH\r\n\r\n", &after).starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_EQ(after, net::After::close);
  start();
  const auto big_header = "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(exchange(big_header, &after).starts_with("HTTP/1.1 431 "));
  EXPECT_EQ(after, net::After::close);
  start();
  const auto big_body =
      "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
  EXPECT_TRUE(exchange(big_body, &after).starts_with("HTTP/1.1 413 "));
}

TEST_F(Http, MetricsAreForTrustedNetworksOnly) {
  start(false);
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 403 "));
  start(true);
  const auto out = exchange("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(out.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(out.find("postino_store_up 1\n"), std::string::npos);
  EXPECT_NE(out.find("postino_queue_messages{state=\"incoming\"} 0\n"), std::string::npos);
  // The earlier requests were counted.
  EXPECT_NE(out.find("postino_http_requests_total{route=\"metrics\",status=\"403\"}"),
            std::string::npos);
}

TEST_F(Http, AutoconfigForOurDomainsOnly) {
  start();
  auto out = exchange("GET /mail/config-v1.1.xml?emailaddress=a%40example.org HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(out.find("<domain>example.org</domain>"), std::string::npos);
  out = exchange(
      "GET /.well-known/autoconfig/mail/config-v1.1.xml HTTP/1.1\r\n"
      "Host: autoconfig.example.org\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  out = exchange("GET /mail/config-v1.1.xml?emailaddress=a%40other.net HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 404 ")) << out;
  out = exchange("POST /mail/config-v1.1.xml HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 405 ")) << out;
  EXPECT_NE(out.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST_F(Http, AutodiscoverAnswersAPoxRequest) {
  start();
  const std::string body =
      "<Autodiscover><Request><EMailAddress>a@example.org</EMailAddress></Request>"
      "</Autodiscover>";
  auto out = exchange("POST /Autodiscover/Autodiscover.xml HTTP/1.1\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(out.find("<LoginName>a@example.org</LoginName>"), std::string::npos);
  out = exchange("POST /autodiscover/autodiscover.xml HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
}

TEST_F(Http, MtaStsPolicyServedWhenAModeIsSet) {
  start();
  EXPECT_TRUE(
      exchange("GET /.well-known/mta-sts.txt HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
  start(true, {"testing", {"mail.example.org"}, 86400});
  const auto out = exchange("GET /.well-known/mta-sts.txt HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(
      out.ends_with("\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\n"
                    "max_age: 86400\r\n"))
      << out;
}

TEST_F(Http, TheAdminApiIsForLoopbackClientsWithTheToken) {
  start();  // no token configured
  EXPECT_TRUE(exchange("GET /api/domains HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
  const std::string token(40, 't');
  start(false, {}, token);
  EXPECT_TRUE(exchange("GET /api/domains HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n")
                  .starts_with("HTTP/1.1 403 "));
  start(true, {}, token);
  auto out = exchange("GET /api/domains HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 401 ")) << out;
  EXPECT_NE(out.find("WWW-Authenticate: Bearer realm=\"postino\""), std::string::npos);
  out = exchange("GET /api/domains HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(out.ends_with("[\n  \"example.org\"\n]\n")) << out;
}

}  // namespace
}  // namespace postino::http
