// See admin_api.hpp.
#include "http/admin_api.hpp"

#include <nlohmann/json.hpp>

#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "http/client_config.hpp"
#include "store/json.hpp"

namespace postino::http {
namespace {

using nlohmann::json;

Response json_response(unsigned status, const json& body) {
  return {status, "application/json", body.dump(2) + "\n"};
}

Response store_error(const store::Error& e) {
  using K = store::ErrorKind;
  const unsigned status = e.kind == K::not_found                               ? 404
                          : e.kind == K::already_exists || e.kind == K::in_use ? 409
                          : e.kind == K::invalid || e.kind == K::too_big       ? 400
                          : e.kind == K::no_space                              ? 507
                          : e.kind == K::temporary || e.kind == K::over_quota  ? 503
                                                                               : 500;
  return json_error(status, e.detail);
}

// The path's segments after /api, percent-decoded ("alice%40example.org" → "alice@…").
std::vector<std::string> segments(const std::string& target) {
  const auto path = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  std::size_t pos = 5;  // after "/api/"
  while (pos <= path.size()) {
    const auto end = std::min(path.find('/', pos), path.size());
    if (end > pos) {
      out.push_back(percent_decode(path.substr(pos, end - pos)));
    }
    pos = end + 1;
  }
  return out;
}

// Hashes for a new password (crypt(3) and SCRAM), or an error text.
std::string hashes(const json& body, std::string& crypt, std::string& scram) {
  if (!body.contains("password") || !body["password"].is_string()) {
    return "expected {\"password\": \"…\"}";
  }
  const auto password = body["password"].get<std::string>();
  if (password.empty() || password.find('\0') != std::string::npos) {
    return "the password must not be empty or contain NUL";
  }
  crypt = auth::hash_password(password);
  scram = auth::ScramCredentials::derive(password).str();
  return crypt.empty() ? "cannot hash the password" : "";
}

std::string string_field(const json& body, const char* name) {
  return body.contains(name) && body[name].is_string() ? body[name].get<std::string>() : "";
}

Response route(store::Store& s, const std::string& method, const std::vector<std::string>& p,
               const std::string& target, const json& body,
               const std::function<void()>& queue_changed) {
  const auto domain_filter = query_parameter(target, "domain").value_or("");
  const auto n = p.size();
  if (n >= 1 && p[0] == "domains") {
    if (n == 1 && method == "GET") {
      auto d = s.list_domains();
      return d ? json_response(200, *d) : store_error(d.error());
    }
    if (n == 1 && method == "POST") {
      const auto domain = string_field(body, "domain");
      if (domain.empty()) return json_error(400, "expected {\"domain\": \"…\"}");
      auto r = s.create_domain(domain);
      return r ? json_response(201, {{"domain", domain}}) : store_error(r.error());
    }
    if (n == 2 && method == "DELETE") {
      auto r = s.delete_domain(p[1]);
      return r ? Response{204, "application/json", ""} : store_error(r.error());
    }
    return json_error(405, "not a method of this resource");
  }
  if (n >= 1 && p[0] == "users") {
    if (n == 1 && method == "GET") {
      auto accounts = s.list_accounts(domain_filter);
      if (!accounts) return store_error(accounts.error());
      json out = json::array();
      for (const auto& a : *accounts) {
        auto usage = s.quota_usage(a.id);
        if (!usage) return store_error(usage.error());
        out.push_back(store::to_json(a.address, *usage));
      }
      return json_response(200, out);
    }
    if (n == 1 && method == "POST") {
      const auto address = string_field(body, "address");
      if (address.empty())
        return json_error(400, "expected {\"address\": \"…\", \"password\": \"…\"}");
      std::string crypt, scram;
      if (auto e = hashes(body, crypt, scram); !e.empty()) return json_error(400, e);
      auto r = s.create_account(address, crypt, scram);
      return r ? json_response(201, {{"address", address}}) : store_error(r.error());
    }
    if (n < 2) return json_error(405, "not a method of this resource");
    auto account = s.find_account(p[1]);
    if (!account) return store_error(account.error());
    if (n == 2 && method == "GET") {
      auto usage = s.quota_usage(account->id);
      return usage ? json_response(200, store::to_json(account->address, *usage))
                   : store_error(usage.error());
    }
    if (n == 2 && method == "DELETE") {
      auto r = s.delete_account(account->address);
      return r ? Response{204, "application/json", ""} : store_error(r.error());
    }
    if (n == 3 && p[2] == "password" && method == "PUT") {
      std::string crypt, scram;
      if (auto e = hashes(body, crypt, scram); !e.empty()) return json_error(400, e);
      auto r = s.set_password(account->address, crypt, scram);
      return r ? Response{204, "application/json", ""} : store_error(r.error());
    }
    if (n == 3 && p[2] == "quota" && (method == "GET" || method == "PUT")) {
      if (method == "PUT") {
        const auto number = [&](const char* name) -> std::optional<std::int64_t> {
          if (!body.contains(name)) return 0;  // 0: no limit
          if (!body[name].is_number_integer() || body[name].get<std::int64_t>() < 0) {
            return std::nullopt;
          }
          return body[name].get<std::int64_t>();
        };
        const auto bytes = number("bytes"), messages = number("messages");
        if (!bytes || !messages) return json_error(400, "expected {\"bytes\": N, \"messages\": N}");
        if (auto r = s.set_quota(account->address, {*bytes, *messages}); !r) {
          return store_error(r.error());
        }
      }
      auto usage = s.quota_usage(account->id);
      return usage ? json_response(200, store::to_json(account->address, *usage))
                   : store_error(usage.error());
    }
    return json_error(405, "not a method of this resource");
  }
  if (n >= 1 && p[0] == "aliases") {
    if (n == 1 && method == "GET") {
      auto aliases = s.list_aliases(domain_filter);
      if (!aliases) return store_error(aliases.error());
      json out = json::array();
      for (const auto& a : *aliases) out.push_back(store::to_json(a));
      return json_response(200, out);
    }
    if (n == 1 && method == "POST") {
      store::Alias alias{string_field(body, "alias"), {}};
      if (body.contains("targets") && body["targets"].is_array()) {
        for (const auto& t : body["targets"]) {
          if (t.is_string()) alias.targets.push_back(t.get<std::string>());
        }
      }
      if (alias.address.empty() || alias.targets.empty()) {
        return json_error(400, "expected {\"alias\": \"…\", \"targets\": [\"…\"]}");
      }
      auto r = s.create_alias(alias);
      return r ? json_response(201, store::to_json(alias)) : store_error(r.error());
    }
    if (n == 2 && method == "DELETE") {
      auto r = s.delete_alias(p[1]);
      return r ? Response{204, "application/json", ""} : store_error(r.error());
    }
    return json_error(405, "not a method of this resource");
  }
  if (n >= 1 && p[0] == "queue") {
    if (n == 1 && method == "GET") {
      auto q = s.list_queue();
      if (!q) return store_error(q.error());
      json out = json::array();
      for (const auto& e : *q) out.push_back(store::to_json(e));
      return json_response(200, out);
    }
    if (n == 2 && method == "GET") {
      auto e = s.queue_entry(p[1]);
      return e ? json_response(200, store::to_json(*e)) : store_error(e.error());
    }
    std::optional<store::QueueAction> action;
    if (n == 2 && method == "DELETE") action = store::QueueAction::remove;
    if (n == 3 && method == "POST") {
      if (p[2] == "hold") action = store::QueueAction::hold;
      if (p[2] == "release") action = store::QueueAction::release;
      if (p[2] == "flush") action = store::QueueAction::flush;
      if (p[2] == "bounce") action = store::QueueAction::bounce;
      if (!action) return json_error(404, "no queue action " + p[2]);
    }
    if (!action) return json_error(405, "not a method of this resource");
    auto changed = s.change_queue(p[1], *action);
    if (!changed) return store_error(changed.error());
    if (*changed == 0) return json_error(404, "no queue entry " + p[1]);
    if (*action != store::QueueAction::hold && *action != store::QueueAction::remove &&
        queue_changed) {
      queue_changed();
    }
    return json_response(200, {{"changed", *changed}});
  }
  return json_error(404, "no such resource");
}

}  // namespace

Response json_error(unsigned status, const std::string& text) {
  return json_response(status, {{"error", text}});
}

Response admin_api(store::Store& store, const AdminRequest& request,
                   const std::function<void()>& queue_changed) {
  json body = json::object();
  if (!request.body.empty()) {
    body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return json_error(400, "the body is not a JSON object");
  }
  return route(store, request.method, segments(request.target), request.target, body,
               queue_changed);
}

}  // namespace postino::http
