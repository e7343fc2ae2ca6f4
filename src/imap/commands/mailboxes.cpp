// Mailbox management in the authenticated state (RFC 3501 §6.3): CREATE, DELETE, RENAME,
// SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, and NAMESPACE (RFC 2342). Names travel in
// modified UTF-7 and are kept in UTF-8 by the store, with "/" as the hierarchy separator.
#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/mailbox_name.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {

store::AccountId Session::account_id() const {
  if (const auto* s = std::get_if<Selected>(&state_)) return s->account.id;
  return std::get<Authenticated>(state_).account.id;
}

std::optional<std::string> Session::mailbox_argument(const wire::Command& cmd, std::size_t index,
                                                     net::Output& out) {
  if (cmd.arguments.size() <= index || !cmd.arguments[index].is_astring()) {
    bad(cmd.tag, "Missing mailbox name", out);
    return std::nullopt;
  }
  auto name = name_from_wire(cmd.arguments[index].value);
  if (!name) {
    out.bytes += wire::tagged(cmd.tag, "NO [CANNOT] Invalid mailbox name encoding");
    return std::nullopt;
  }
  return name;
}

// Runs `op` on the worker pool and answers "tag OK what completed" or the store's NO.
void Session::store_command(const wire::Command& cmd, std::string what,
                            std::function<store::Result<void>()> op, net::Output& out) {
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, what = std::move(what), op = std::move(op)] {
    auto r = op();
    work_.reply = wire::tagged(tag, r ? "OK " + what + " completed" : no_for(r.error()));
  };
}

void Session::create(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  // RFC 3501 §6.3.3: a trailing separator only says that children are coming.
  while (name->size() > 1 && name->back() == '/') name->pop_back();
  if (wire::fold_inbox(*name) == "INBOX") {
    out.bytes += wire::tagged(cmd.tag, "NO [ALREADYEXISTS] INBOX always exists");
    return;
  }
  // CREATE-SPECIAL-USE (RFC 6154 §3): CREATE name (USE (\Sent)).
  auto use = store::SpecialUse::none;
  if (cmd.arguments.size() > 1) {
    const auto& options = cmd.arguments[1];
    const bool well_formed = cmd.arguments.size() == 2 && options.type == wire::Token::Type::list &&
                             options.children.size() == 2 &&
                             base::iequals(options.children[0].value, "USE") &&
                             options.children[1].type == wire::Token::Type::list;
    if (!well_formed) return bad(cmd.tag, "Syntax: CREATE mailbox [(USE (attributes))]", out);
    const auto& uses = options.children[1].children;
    if (uses.size() > 1) {
      out.bytes += wire::tagged(cmd.tag, "NO [USEATTR] One special use per mailbox");
      return;
    }
    if (uses.size() == 1) {
      for (auto u : {store::SpecialUse::sent, store::SpecialUse::drafts, store::SpecialUse::trash,
                     store::SpecialUse::junk, store::SpecialUse::archive}) {
        if (base::iequals(uses[0].value, store::to_string(u))) use = u;
      }
      if (use == store::SpecialUse::none) {
        out.bytes += wire::tagged(
            cmd.tag, "NO [USEATTR] Unsupported special use " + std::string(uses[0].value));
        return;
      }
    }
  }
  store_command(
      cmd, "CREATE",
      [this, n = *name, use]() -> store::Result<void> {
        auto r = settings_.store->create_mailbox(account_id(), n, use);
        if (!r) return r.error();
        return {};
      },
      out);
}

void Session::delete_mailbox(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  if (wire::fold_inbox(*name) == "INBOX") {
    out.bytes += wire::tagged(cmd.tag, "NO [CANNOT] INBOX cannot be deleted");
    return;
  }
  store_command(
      cmd, "DELETE", [this, n = *name] { return settings_.store->delete_mailbox(account_id(), n); },
      out);
}

void Session::rename(const wire::Command& cmd, net::Output& out) {
  auto from = mailbox_argument(cmd, 0, out);
  if (!from) return;
  auto to = mailbox_argument(cmd, 1, out);
  if (!to) return;
  store_command(
      cmd, "RENAME",
      [this, f = *from, t = *to] { return settings_.store->rename_mailbox(account_id(), f, t); },
      out);
}

void Session::subscribe(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  const bool on = cmd.name == "SUBSCRIBE";
  store_command(
      cmd, cmd.name,
      [this, n = *name, on] { return settings_.store->set_subscribed(account_id(), n, on); }, out);
}

std::optional<std::vector<std::string>> Session::status_items(const wire::Token& list) {
  if (list.type != wire::Token::Type::list || list.children.empty()) return std::nullopt;
  std::vector<std::string> items;
  for (const auto& t : list.children) {
    auto item = base::to_upper(t.value);
    if (t.type != wire::Token::Type::atom ||
        (item != "MESSAGES" && item != "RECENT" && item != "UIDNEXT" && item != "UIDVALIDITY" &&
         item != "UNSEEN" && item != "SIZE" && item != "HIGHESTMODSEQ" && item != "DELETED")) {
      return std::nullopt;
    }
    if (item == "HIGHESTMODSEQ") condstore_ = true;  // RFC 7162 §3.1: an enabling command
    items.push_back(item);
  }
  return items;
}

std::optional<std::string> Session::name_from_wire(std::string_view name) const {
  // RFC 9051 §5.1: IMAP4rev2 names are UTF-8; modified UTF-7 is IMAP4rev1's.
  return utf8_accept_ || rev2_ ? wire::decode_utf8_name(name) : wire::decode_mutf7(name);
}

std::string Session::name_to_wire(std::string_view name) const {
  return wire::astring(utf8_accept_ || rev2_ ? std::string(name) : wire::encode_mutf7(name));
}

std::string Session::status_line(const store::MailboxInfo& box,
                                 const std::vector<std::string>& items) const {
  std::string values;
  for (const auto& item : items) {
    std::uint64_t v = 0;
    if (item == "MESSAGES")
      v = static_cast<std::uint64_t>(box.messages);
    else if (item == "UIDNEXT")
      v = box.uid_next.value;
    else if (item == "UIDVALIDITY")
      v = box.uid_validity.value;
    else if (item == "UNSEEN")
      v = static_cast<std::uint64_t>(box.unseen);
    else if (item == "SIZE")  // RFC 8438: the octets of all messages
      v = static_cast<std::uint64_t>(box.bytes);
    else if (item == "HIGHESTMODSEQ")
      v = box.highest_mod_seq.value;
    else if (item == "DELETED")  // RFC 9051 §6.3.11: messages flagged \Deleted
      v = static_cast<std::uint64_t>(box.deleted);
    // RECENT: 0, Postino keeps no \Recent flag (RFC 9051 dropped it).
    values += (values.empty() ? "" : " ") + item + " " + std::to_string(v);
  }
  return "* STATUS " + name_to_wire(box.name) + " (" + values + ")\r\n";
}

void Session::status(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  auto items = cmd.arguments.size() == 2 ? status_items(cmd.arguments[1]) : std::nullopt;
  if (!items) return bad(cmd.tag, "Syntax: STATUS mailbox (items)", out);
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, n = *name, items = *items] {
    auto box = settings_.store->mailbox(account_id(), n);
    if (!box) {
      work_.reply = wire::tagged(tag, no_for(box.error()));
      return;
    }
    work_.reply = status_line(*box, items) + wire::tagged(tag, "OK STATUS completed");
  };
}

namespace {

// RFC 2087 §5.1: one QUOTA response for the account's root "", with the limits it has
// (STORAGE in units of 1024 octets, MESSAGE in messages).
std::string quota_response(const store::QuotaUsage& u) {
  std::string resources;
  if (u.quota.max_bytes > 0) {
    resources += "STORAGE " + std::to_string((u.bytes + 1023) / 1024) + " " +
                 std::to_string(u.quota.max_bytes / 1024);
  }
  if (u.quota.max_messages > 0) {
    resources += std::string(resources.empty() ? "" : " ") + "MESSAGE " +
                 std::to_string(u.messages) + " " + std::to_string(u.quota.max_messages);
  }
  return "* QUOTA \"\" (" + resources + ")\r\n";
}

}  // namespace

// QUOTA (RFC 2087, RFC 9208): every mailbox of an account under one quota root, "".
void Session::getquotaroot(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  if (cmd.arguments.size() != 1) return bad(cmd.tag, "Syntax: GETQUOTAROOT mailbox", out);
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, n = *name] {
    auto box = settings_.store->mailbox(account_id(), n);
    if (!box) {
      work_.reply = wire::tagged(tag, no_for(box.error()));
      return;
    }
    auto usage = settings_.store->quota_usage(account_id());
    if (!usage) {
      work_.reply = wire::tagged(tag, no_for(usage.error()));
      return;
    }
    work_.reply = "* QUOTAROOT " + name_to_wire(box->name) + " \"\"\r\n" + quota_response(*usage) +
                  wire::tagged(tag, "OK GETQUOTAROOT completed");
  };
}

void Session::getquota(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.size() != 1 || !cmd.arguments[0].is_astring())
    return bad(cmd.tag, "Syntax: GETQUOTA root", out);
  if (!cmd.arguments[0].value.empty()) {
    out.bytes += wire::tagged(cmd.tag, "NO [NONEXISTENT] No such quota root");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag] {
    auto usage = settings_.store->quota_usage(account_id());
    work_.reply = usage ? quota_response(*usage) + wire::tagged(tag, "OK GETQUOTA completed")
                        : wire::tagged(tag, no_for(usage.error()));
  };
}

void Session::setquota(const wire::Command& cmd, net::Output& out) {
  out.bytes +=
      wire::tagged(cmd.tag, "NO [NOPERM] Quotas are set by the administrator (postino quota set)");
}

void Session::namespace_command(const wire::Command& cmd, net::Output& out) {
  if (!cmd.arguments.empty()) return bad(cmd.tag, "NAMESPACE takes no arguments", out);
  // RFC 2342: one personal namespace with "/" as the separator; no shared ones.
  out.bytes += "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n";
  out.bytes += wire::tagged(cmd.tag, "OK NAMESPACE completed");
}

}  // namespace postino::imap
