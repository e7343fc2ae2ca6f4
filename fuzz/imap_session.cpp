// A whole IMAP session (imap/session.hpp) over an in-memory transport and a real store:
// logged in and INBOX selected by the harness, then the input as the client's bytes, in
// pieces of a size the first byte chooses. Every command of every extension is reachable;
// the property is that nothing crashes, leaks or trips a sanitizer, whatever the order.
#include "fuzz.hpp"
#include "imap/session.hpp"
#include "session_driver.hpp"

using namespace postino;

POSTINO_FUZZ_TARGET(imap_session) {
  if (data.empty()) return;
  const std::size_t piece = static_cast<unsigned char>(data[0]) % 64 + 1;
  data.remove_prefix(1);
  auto& fixture = fuzz::FuzzStore::get();
  imap::SessionSettings s;
  s.store = &fixture.store();
  s.authenticator = &fixture.authenticator();
  s.max_append_bytes = 65536;
  s.max_bad_commands = 1000;
  net::ClientInfo client;
  client.address = "192.0.2.5";
  client.is_tls = true;
  imap::Session session(s, client);
  session.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
  fuzz::drive(session, "a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n", data, piece);
}
