// SMTP session factory; see server.hpp.
#include "smtp/session_factory.hpp"

#include "smtp/wire/reply.hpp"

namespace postino::smtp {

std::string SessionFactory::busy_reply() {
  return reply::with_host(reply::c421_too_many_connections, settings_.hostname);
}

}  // namespace postino::smtp
