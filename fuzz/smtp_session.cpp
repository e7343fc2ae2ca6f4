// A whole SMTP session (smtp/session.hpp), inbound on port 25 or submission after TLS (the
// first input byte chooses, and the piece size), over an in-memory transport and a real
// store: the input is the client's bytes. Nothing may crash or trip a sanitizer.
#include "fuzz.hpp"
#include "session_driver.hpp"
#include "smtp/session.hpp"

using namespace postino;

POSTINO_FUZZ_TARGET(smtp_session) {
  if (data.empty()) return;
  const auto first = static_cast<unsigned char>(data[0]);
  data.remove_prefix(1);
  const bool submission = first & 1;
  const std::size_t piece = first / 2 % 64 + 1;
  auto& fixture = fuzz::FuzzStore::get();
  smtp::SessionSettings s;
  s.hostname = "mx.test";
  s.max_errors = 1000;
  s.is_submission = submission;
  s.max_message_bytes = 65536;
  s.max_recipients = 20;
  s.is_dev = true;
  s.store = &fixture.store();
  s.authenticator = &fixture.authenticator();
  net::ClientInfo client;
  client.address = "192.0.2.9";
  client.is_tls = submission;
  smtp::Session session(s, client);
  if (submission) session.tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
  fuzz::drive(session, "", data, piece);
}
