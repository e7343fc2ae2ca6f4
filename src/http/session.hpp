// The HTTP listener's session: HTTP/1.1 requests parsed by Boost.Beast's parser over the
// bytes the connection driver hands in (the session never sees a socket), answered from
// a fixed set of routes:
//   /health                                   200 when the store answers, 503 otherwise
//   /metrics                                  Prometheus text; trusted networks only
//   /mail/config-v1.1.xml,
//   /.well-known/autoconfig/mail/config-v1.1.xml   Thunderbird autoconfig
//   /autodiscover/autodiscover.xml (POST)     Outlook autodiscover (POX)
//   /.well-known/mta-sts.txt                  the MTA-STS policy (RFC 8461)
//   /api/…                                    the admin API (admin_api.hpp)
// Requests are answered in order (pipelining), keep-alive as the client asks.
#pragma once

#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/client_config.hpp"
#include "http/response.hpp"
#include "net/session.hpp"
#include "store/store.hpp"

namespace postino::http {

struct SessionSettings {
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 65536;
  std::chrono::seconds idle_timeout{30};
  // The listeners clients should use, filled in once the ports are bound.
  std::shared_ptr<const MailServices> services;
  MtaStsPolicy mta_sts;
  store::Store* store = nullptr;
  // The admin API (/api/…): off while empty; loopback clients with this bearer token.
  std::string admin_token;
  std::function<void()> queue_changed;  // the scheduler's wake()
};

class Session final : public net::ProtocolSession {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  Session(SessionSettings settings, net::ClientInfo client);

  net::Output greet() override { return {}; }
  net::Output receive(std::string& input) override;
  net::Output resume(std::string& input) override;
  void tls_started(const net::TlsInfo&) override {}
  std::string timeout_reply() override { return ""; }
  std::string shutdown_reply() override { return ""; }
  std::chrono::seconds idle_timeout() const override { return settings_.idle_timeout; }

 private:
  // Answers `request` at once (true), or returns false after setting `compute_` to
  // produce the answer on the worker pool (store queries).
  bool route(const Request& request, Response& response);
  // The client configuration `document` when `domain` is ours (blocking: a store query),
  // 404 otherwise.
  Response for_our_domain(const std::string& domain, const std::function<std::string()>& document);
  std::string serialize(const Request& request, const Response& response);
  std::string error_reply(unsigned status, std::string_view text);

  SessionSettings settings_;
  net::ClientInfo client_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  // A request waiting for its work: answered by resume().
  std::optional<Request> pending_;
  std::function<Response(const Request&)> compute_;
  Response pending_response_;
  std::string route_name_;  // for the metrics
  bool closing_ = false;
};

}  // namespace postino::http
