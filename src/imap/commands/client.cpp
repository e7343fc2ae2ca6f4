// What a client tells the server about itself and its connection: ID (RFC 2971), ENABLE
// (RFC 5161) and COMPRESS (RFC 4978).
#include "base/ascii.hpp"
#include "base/log.hpp"
#include "imap/session.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {
namespace {

bool is_nil(const wire::Token& t) {
  return t.type == wire::Token::Type::atom && base::iequals(t.value, "NIL");
}

}  // namespace

// ID: the client's list of field-value pairs (or NIL) is logged once, and the server
// answers with its own name and version. RFC 2971 §3.3 bounds the list: at most 30 pairs,
// field names up to 30 octets, values up to 1024.
void Session::id(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.size() != 1) return bad(cmd.tag, "Syntax: ID (field value ...) or ID NIL", out);
  const auto& arg = cmd.arguments[0];
  if (!is_nil(arg)) {
    if (arg.type != wire::Token::Type::list || arg.children.size() % 2 != 0 ||
        arg.children.size() > 60) {
      return bad(cmd.tag, "ID takes NIL or up to 30 field-value pairs", out);
    }
    std::string described;
    for (std::size_t i = 0; i < arg.children.size(); i += 2) {
      const auto& field = arg.children[i];
      const auto& value = arg.children[i + 1];
      if (!field.is_string() || field.value.size() > 30 || !(value.is_string() || is_nil(value)) ||
          value.value.size() > 1024) {
        return bad(cmd.tag, "ID fields are strings up to 30 octets, values up to 1024 or NIL", out);
      }
      if (!described.empty()) described += ' ';
      described += field.value + "=" + (is_nil(value) ? "NIL" : value.value);
    }
    base::log::info(client_.session_id, "imap.id", {{"client", described}});
  }
  out.bytes += "* ID (\"name\" \"Postino\" \"version\" \"" POSTINO_VERSION "\")\r\n";
  out.bytes += wire::tagged(cmd.tag, "OK ID completed");
}

// ENABLE: none of the extensions this server offers changes its behaviour once enabled
// yet (CONDSTORE, QRESYNC and UTF8=ACCEPT come with the many-devices issue), so the
// answer names none of them; unknown names are ignored as RFC 5161 §3.1 asks.
void Session::enable(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.empty()) return bad(cmd.tag, "Syntax: ENABLE capability ...", out);
  std::string enabled;
  for (const auto& a : cmd.arguments) {
    if (a.type != wire::Token::Type::atom) return bad(cmd.tag, "ENABLE takes atoms", out);
    // RFC 5161 §3.1: unknown capabilities are ignored; the ones enabled are listed.
    if (base::iequals(a.value, "CONDSTORE") && enabled.find(" CONDSTORE") == std::string::npos) {
      condstore_ = true;
      enabled += " CONDSTORE";
    }
    // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
    if (base::iequals(a.value, "QRESYNC") && enabled.find(" QRESYNC") == std::string::npos) {
      condstore_ = qresync_ = true;
      enabled += " QRESYNC";
    }
    if (base::iequals(a.value, "IMAP4rev2") && enabled.find(" IMAP4rev2") == std::string::npos) {
      rev2_ = true;
      enabled += " IMAP4rev2";
    }
    // RFC 6855 §3: mailbox names in UTF-8 from now on, in both directions.
    if (base::iequals(a.value, "UTF8=ACCEPT") &&
        enabled.find(" UTF8=ACCEPT") == std::string::npos) {
      utf8_accept_ = true;
      enabled += " UTF8=ACCEPT";
    }
  }
  out.bytes += "* ENABLED" + enabled + "\r\n";
  out.bytes += wire::tagged(cmd.tag, "OK ENABLE completed");
}

// COMPRESS DEFLATE: the tagged OK goes out uncompressed, then net/ compresses both
// directions (deflate.hpp bounds what a small input may inflate to).
void Session::compress(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.size() != 1 || !cmd.arguments[0].is_astring())
    return bad(cmd.tag, "Syntax: COMPRESS DEFLATE", out);
  if (!base::iequals(cmd.arguments[0].value, "DEFLATE"))
    return bad(cmd.tag, "Unknown compression mechanism " + cmd.arguments[0].value, out);
  if (compressed_) {
    out.bytes += wire::tagged(cmd.tag, "NO [COMPRESSIONACTIVE] DEFLATE is already active");
    return;
  }
  // RFC 4978 §3: the client compresses only after the OK; bytes already behind the
  // command were sent before it (RELIABILITY T05, as Dovecot answers).
  if (unread_ && !unread_->empty())
    return bad(cmd.tag, "Client did not wait for COMPRESS reply", out);
  compressed_ = true;
  out.bytes += wire::tagged(cmd.tag, "OK DEFLATE active");
  out.after = net::After::start_compression;
}

}  // namespace postino::imap
