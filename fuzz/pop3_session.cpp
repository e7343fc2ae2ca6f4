// A whole POP3 session (pop3/session.hpp) after TLS, over an in-memory transport and a
// real store; the harness logs in half of the time (the first input byte chooses, and
// the piece size), so both states are reached. Nothing may crash or trip a sanitizer.
#include "fuzz.hpp"
#include "pop3/maildrop_locks.hpp"
#include "pop3/session.hpp"
#include "session_driver.hpp"

using namespace postino;

POSTINO_FUZZ_TARGET(pop3_session) {
  if (data.empty()) return;
  const auto first = static_cast<unsigned char>(data[0]);
  data.remove_prefix(1);
  const std::size_t piece = first / 2 % 64 + 1;
  auto& fixture = fuzz::FuzzStore::get();
  static pop3::MaildropLocks locks;
  pop3::SessionSettings s;
  s.store = &fixture.store();
  s.authenticator = &fixture.authenticator();
  s.locks = &locks;
  s.max_bad_commands = 1000;
  net::ClientInfo client;
  client.address = "192.0.2.7";
  client.is_tls = true;
  {
    pop3::Session session(s, client);
    session.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
    fuzz::drive(session, first & 1 ? "USER demo@example.test\r\nPASS secret\r\n" : "", data, piece);
  }
}
