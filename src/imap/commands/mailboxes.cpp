// Mailbox management in the authenticated state (RFC 3501 §6.3): CREATE, DELETE, RENAME,
// SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, and NAMESPACE (RFC 2342). Names travel in
// modified UTF-7 and are kept in UTF-8 by the store, with "/" as the hierarchy separator.
#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/mailbox_name.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {
namespace {

// LIST wildcards (RFC 3501 §6.3.8): "*" matches anything, "%" anything but "/".
bool matches(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return name.empty();
  if (pattern.front() == '*' || pattern.front() == '%') {
    for (std::size_t i = 0; i <= name.size(); ++i) {
      if (matches(pattern.substr(1), name.substr(i))) return true;
      if (i < name.size() && pattern.front() == '%' && name[i] == '/') return false;
    }
    return false;
  }
  return !name.empty() && pattern.front() == name.front() &&
         matches(pattern.substr(1), name.substr(1));
}

// INBOX is case-insensitive as a first level, in patterns as in names.
std::string fold_inbox(std::string name) {
  if (base::iequals(name.substr(0, 5), "INBOX") && (name.size() == 5 || name[5] == '/')) {
    name.replace(0, 5, "INBOX");
  }
  return name;
}

}  // namespace

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
  auto name = wire::decode_mutf7(cmd.arguments[index].value);
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
  if (fold_inbox(*name) == "INBOX") {
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
  if (fold_inbox(*name) == "INBOX") {
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

void Session::list(const wire::Command& cmd, net::Output& out) {
  if (cmd.arguments.size() != 2 || !cmd.arguments[0].is_astring() ||
      !cmd.arguments[1].is_astring()) {
    return bad(cmd.tag, "Syntax: " + cmd.name + " reference mailbox", out);
  }
  const bool lsub = cmd.name == "LSUB";
  auto reference = wire::decode_mutf7(cmd.arguments[0].value);
  auto pattern = wire::decode_mutf7(cmd.arguments[1].value);
  if (!reference || !pattern) {
    out.bytes += wire::tagged(cmd.tag, "NO [CANNOT] Invalid mailbox name encoding");
    return;
  }
  if (pattern->empty() && !lsub) {
    // RFC 3501 §6.3.8: an empty pattern asks for the hierarchy delimiter.
    out.bytes += "* LIST (\\Noselect) \"/\" \"\"\r\n";
    out.bytes += wire::tagged(cmd.tag, "OK LIST completed");
    return;
  }
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, lsub, full = fold_inbox(*reference + *pattern)] {
    auto boxes = settings_.store->list_mailboxes(account_id());
    if (!boxes) {
      work_.reply = wire::tagged(tag, no_for(boxes.error()));
      return;
    }
    for (const auto& b : *boxes) {
      if (lsub && !b.is_subscribed) continue;
      if (!matches(full, b.name)) continue;
      bool has_children = false;
      for (const auto& other : *boxes) {
        has_children = has_children || other.name.starts_with(b.name + "/");
      }
      std::string attributes = has_children ? "\\HasChildren" : "\\HasNoChildren";
      // RFC 6154 §2: the mailbox's special use, so that clients find Sent, Trash, ….
      if (!lsub && b.special_use != store::SpecialUse::none)
        attributes += std::string(" ") + store::to_string(b.special_use);
      work_.reply += std::string("* ") + (lsub ? "LSUB" : "LIST") + " (" + attributes + ") \"/\" " +
                     wire::astring(wire::encode_mutf7(b.name)) + "\r\n";
    }
    work_.reply += wire::tagged(tag, std::string("OK ") + (lsub ? "LSUB" : "LIST") + " completed");
  };
}

void Session::status(const wire::Command& cmd, net::Output& out) {
  auto name = mailbox_argument(cmd, 0, out);
  if (!name) return;
  if (cmd.arguments.size() != 2 || cmd.arguments[1].type != wire::Token::Type::list ||
      cmd.arguments[1].children.empty()) {
    return bad(cmd.tag, "Syntax: STATUS mailbox (items)", out);
  }
  std::vector<std::string> items;
  for (const auto& t : cmd.arguments[1].children) {
    auto item = base::to_upper(t.value);
    if (t.type != wire::Token::Type::atom ||
        (item != "MESSAGES" && item != "RECENT" && item != "UIDNEXT" && item != "UIDVALIDITY" &&
         item != "UNSEEN" && item != "SIZE" && item != "HIGHESTMODSEQ")) {
      return bad(cmd.tag, "Unknown STATUS item", out);
    }
    if (item == "HIGHESTMODSEQ") condstore_ = true;  // RFC 7162 §3.1: an enabling command
    items.push_back(item);
  }
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, n = *name, items] {
    auto box = settings_.store->mailbox(account_id(), n);
    if (!box) {
      work_.reply = wire::tagged(tag, no_for(box.error()));
      return;
    }
    std::string values;
    for (const auto& item : items) {
      std::uint64_t v = 0;
      if (item == "MESSAGES")
        v = static_cast<std::uint64_t>(box->messages);
      else if (item == "UIDNEXT")
        v = box->uid_next.value;
      else if (item == "UIDVALIDITY")
        v = box->uid_validity.value;
      else if (item == "UNSEEN")
        v = static_cast<std::uint64_t>(box->unseen);
      else if (item == "SIZE")  // RFC 8438: the octets of all messages
        v = static_cast<std::uint64_t>(box->bytes);
      else if (item == "HIGHESTMODSEQ")
        v = box->highest_mod_seq.value;
      // RECENT: 0, Postino keeps no \Recent flag (RFC 9051 dropped it).
      values += (values.empty() ? "" : " ") + item + " " + std::to_string(v);
    }
    work_.reply = "* STATUS " + wire::astring(wire::encode_mutf7(box->name)) + " (" + values +
                  ")\r\n" + wire::tagged(tag, "OK STATUS completed");
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
    work_.reply = "* QUOTAROOT " + wire::astring(wire::encode_mutf7(box->name)) + " \"\"\r\n" +
                  quota_response(*usage) + wire::tagged(tag, "OK GETQUOTAROOT completed");
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
