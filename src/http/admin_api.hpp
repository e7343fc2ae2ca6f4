// The admin JSON API (/api/…): domains, users, passwords, quotas, aliases and the queue,
// as the `postino` commands manage them, for panels and provisioning scripts. The session
// lets only loopback clients with the token in `Authorization: Bearer …` reach it; this is
// the part behind that door. Blocking (store, password hashing): run on the worker pool.
//
//   GET    /api/domains                     POST /api/domains {"domain"}
//   DELETE /api/domains/D
//   GET    /api/users[?domain=D]            POST /api/users {"address", "password"}
//   GET    /api/users/A                     DELETE /api/users/A
//   PUT    /api/users/A/password {"password"}
//   GET    /api/users/A/quota               PUT /api/users/A/quota {"bytes", "messages"}
//   GET    /api/aliases[?domain=D]          POST /api/aliases {"alias", "targets": [...]}
//   DELETE /api/aliases/A
//   GET    /api/queue                       GET /api/queue/ID      DELETE /api/queue/ID
//   POST   /api/queue/ID/hold|release|flush|bounce
//
// Answers are JSON; errors are {"error": "…"} with 400, 404, 405, 409, 503 or 507.
#pragma once

#include <functional>
#include <string>

#include "http/response.hpp"
#include "store/store.hpp"

namespace postino::http {

struct AdminRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string target;  // path and query, as sent
  std::string body;
};

// {"error": text} with that status: the API's errors, also those of the session's door.
Response json_error(unsigned status, const std::string& text);

// `queue_changed` is called after a queue entry is released, flushed or bounced, so that
// the scheduler looks at once.
Response admin_api(store::Store& store, const AdminRequest& request,
                   const std::function<void()>& queue_changed);

}  // namespace postino::http
