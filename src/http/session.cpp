// See session.hpp.
#include "http/session.hpp"

#include <openssl/crypto.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <sstream>

#include "base/ascii.hpp"
#include "base/log.hpp"
#include "base/metrics.hpp"
#include "http/admin_api.hpp"
#include "http/store_metrics.hpp"

namespace postino::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

base::metrics::Counter& requests(std::string_view route, unsigned status) {
  static auto& family =
      base::metrics::counter("postino_http_requests_total",
                             "HTTP requests answered, by route and status.", {"route", "status"});
  return family.with({std::string(route), std::to_string(status)});
}

std::string reason(unsigned status) {
  return std::string(bhttp::obsolete_reason(bhttp::int_to_status(status)));
}

Response text(unsigned status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

Response xml(std::string body) {
  return {200, "application/xml; charset=utf-8", std::move(body)};
}

bool is_read(const Session::Request& r) {
  return r.method() == bhttp::verb::get || r.method() == bhttp::verb::head;
}

}  // namespace

Session::Session(SessionSettings settings, net::ClientInfo client)
    : settings_(std::move(settings)), client_(std::move(client)) {}

net::Output Session::receive(std::string& input) {
  net::Output out;
  while (!closing_) {
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
      parser_->body_limit(settings_.max_body_bytes);
      parser_->eager(true);
    }
    beast::error_code ec;
    const auto used = parser_->put(boost::asio::buffer(input), ec);
    input.erase(0, used);
    if (ec == bhttp::error::need_more) {
      if (used == 0) break;  // wait for more bytes
      continue;
    }
    if (ec) {
      const unsigned status = ec == bhttp::error::header_limit ? 431
                              : ec == bhttp::error::body_limit ? 413
                                                               : 400;
      base::log::info(client_.session_id, "http_bad_request",
                      {{"status", std::to_string(status)}, {"error", ec.message()}});
      requests("bad_request", status).add();
      out.bytes += error_reply(status, ec.message());
      closing_ = true;
      break;
    }
    if (!parser_->is_done()) continue;
    Request request = parser_->release();
    parser_.reset();
    Response response;
    if (!route(request, response)) {
      pending_ = std::move(request);
      out.after = net::After::work;
      out.work = [this] { pending_response_ = compute_(*pending_); };
      return out;
    }
    out.bytes += serialize(request, response);
    if (!request.keep_alive()) closing_ = true;
  }
  if (closing_) out.after = net::After::close;
  return out;
}

net::Output Session::resume(std::string& input) {
  std::string bytes = serialize(*pending_, pending_response_);
  if (!pending_->keep_alive()) closing_ = true;
  pending_.reset();
  compute_ = nullptr;
  auto out = receive(input);
  out.bytes = bytes + out.bytes;
  return out;
}

bool Session::route(const Request& request, Response& response) {
  const std::string target(request.target());
  const auto path = base::to_lower(target.substr(0, target.find('?')));
  const auto method_not_allowed = [&](std::string allow) {
    response = text(405, "Method not allowed.\r\n");
    response.allow = std::move(allow);
    route_name_ = "method_not_allowed";
    return true;
  };
  route_name_ = "not_found";
  if (path == "/api" || path.starts_with("/api/")) {
    route_name_ = "admin_api";
    if (settings_.admin_token.empty()) {
      response = json_error(404, "The admin API is off (http.admin_token_file).");
      return true;
    }
    if (!client_.is_loopback) {
      response = json_error(403, "The admin API answers loopback clients only.");
      return true;
    }
    const auto given = std::string(request[bhttp::field::authorization]);
    const auto expected = "Bearer " + settings_.admin_token;
    if (given.size() != expected.size() ||
        CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) {
      base::log::warn(client_.session_id, "admin_api_denied", {{"target", target}});
      response = json_error(401, "A valid token is needed: Authorization: Bearer TOKEN.");
      response.www_authenticate = "Bearer realm=\"postino\"";
      return true;
    }
    compute_ = [this, method = std::string(request.method_string()), target](const Request& r) {
      return admin_api(*settings_.store, {method, target, r.body()}, settings_.queue_changed);
    };
    return false;
  }
  if (path == "/health") {
    if (!is_read(request)) return method_not_allowed("GET, HEAD");
    route_name_ = "health";
    compute_ = [store = settings_.store](const Request&) {
      auto domains = store->list_domains();
      if (!domains) return text(503, "store unavailable: " + domains.error().detail + "\r\n");
      return text(200, "ok\r\n");
    };
    return false;
  }
  if (path == "/metrics") {
    if (!is_read(request)) return method_not_allowed("GET, HEAD");
    route_name_ = "metrics";
    if (!client_.is_trusted) {
      response = text(403, "Metrics are served to limits.trusted_networks only.\r\n");
      return true;
    }
    compute_ = [store = settings_.store](const Request&) {
      return Response{200, "text/plain; version=0.0.4; charset=utf-8",
                      base::metrics::render(store_metrics(*store))};
    };
    return false;
  }
  if (path == "/mail/config-v1.1.xml" || path == "/.well-known/autoconfig/mail/config-v1.1.xml") {
    if (!is_read(request)) return method_not_allowed("GET, HEAD");
    route_name_ = "autoconfig";
    const auto address = query_parameter(target, "emailaddress").value_or("");
    const auto domain = request_domain(address, request[bhttp::field::host]);
    if (!domain) {
      response = text(400, "Give ?emailaddress=ADDRESS or ask autoconfig.DOMAIN.\r\n");
      return true;
    }
    compute_ = [this, domain = *domain](const Request&) {
      return for_our_domain(domain, [&] { return autoconfig_xml(domain, *settings_.services); });
    };
    return false;
  }
  if (path == "/autodiscover/autodiscover.xml") {
    if (request.method() != bhttp::verb::post) return method_not_allowed("POST");
    route_name_ = "autodiscover";
    const auto address = autodiscover_request_address(request.body());
    const auto domain = address ? request_domain(*address, "") : std::nullopt;
    if (!domain) {
      response = text(400, "Expected an autodiscover request with an EMailAddress.\r\n");
      return true;
    }
    compute_ = [this, address = *address, domain = *domain](const Request&) {
      return for_our_domain(domain, [&] { return autodiscover_xml(address, *settings_.services); });
    };
    return false;
  }
  if (path == "/.well-known/mta-sts.txt") {
    if (!is_read(request)) return method_not_allowed("GET, HEAD");
    route_name_ = "mta_sts";
    if (settings_.mta_sts.mode == "none") {
      response = text(404, "No MTA-STS policy (mta_sts.mode).\r\n");
    } else {
      // RFC 8461 §3.3: text/plain, fetched over HTTPS from mta-sts.DOMAIN.
      response = text(200, mta_sts_text(settings_.mta_sts));
    }
    return true;
  }
  response = text(404, "Not found.\r\n");
  return true;
}

Response Session::for_our_domain(const std::string& domain,
                                 const std::function<std::string()>& document) {
  auto local = settings_.store->is_local_domain(domain);
  if (!local) return text(503, "store unavailable\r\n");
  if (!*local) return text(404, "Not a domain of ours.\r\n");
  return xml(document());
}

std::string Session::serialize(const Request& request, const Response& response) {
  bhttp::response<bhttp::string_body> res{bhttp::int_to_status(response.status), request.version()};
  res.set(bhttp::field::content_type, response.content_type);
  res.set(bhttp::field::cache_control, "no-store");
  if (!response.allow.empty()) res.set(bhttp::field::allow, response.allow);
  if (!response.www_authenticate.empty()) {
    res.set(bhttp::field::www_authenticate, response.www_authenticate);
  }
  res.body() = response.body;
  res.keep_alive(request.keep_alive());
  res.prepare_payload();
  std::ostringstream text;
  text << res;
  auto bytes = text.str();
  if (request.method() == bhttp::verb::head) bytes.erase(bytes.find("\r\n\r\n") + 4);
  base::log::info(client_.session_id, "http",
                  {{"method", std::string(request.method_string())},
                   {"target", std::string(request.target())},
                   {"status", std::to_string(response.status)},
                   {"bytes", std::to_string(response.body.size())}});
  requests(route_name_, response.status).add();
  return bytes;
}

std::string Session::error_reply(unsigned status, std::string_view text) {
  const auto body = std::string(text) + "\r\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace postino::http
