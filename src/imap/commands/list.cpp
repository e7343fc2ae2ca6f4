// LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) with LIST-EXTENDED (RFC 5258): selection options
// SUBSCRIBED, REMOTE, RECURSIVEMATCH and SPECIAL-USE (RFC 6154), several patterns, and
// return options SUBSCRIBED, CHILDREN, SPECIAL-USE and STATUS (RFC 5819 LIST-STATUS).
#include <algorithm>

#include "base/ascii.hpp"
#include "imap/session.hpp"
#include "imap/store_errors.hpp"
#include "imap/wire/mailbox_name.hpp"
#include "imap/wire/response.hpp"

namespace postino::imap {

void Session::list(const wire::Command& cmd, net::Output& out) {
  const bool lsub = cmd.name == "LSUB";
  const auto& args = cmd.arguments;
  const auto syntax = "Syntax: " + cmd.name +
                      (lsub ? " reference mailbox"
                            : " [(selection-options)] reference mailbox-patterns "
                              "[RETURN (return-options)]");
  std::size_t at = 0;  // the argument being read; the reference comes after any selection
  bool subscribed_only = false, recursive = false, special_only = false, extended = false;
  bool return_subscribed = false;
  std::optional<std::vector<std::string>> status;
  if (!lsub && !args.empty() && args[0].type == wire::Token::Type::list) {
    extended = true;
    for (const auto& o : args[0].children) {
      const auto option = base::to_upper(o.value);
      if (option == "SUBSCRIBED")
        subscribed_only = true;
      else if (option == "RECURSIVEMATCH")
        recursive = true;
      else if (option == "SPECIAL-USE")
        special_only = true;
      else if (option != "REMOTE")
        return bad(cmd.tag, "Unknown LIST selection option", out);
    }
    // RFC 5258 §3: RECURSIVEMATCH only refines SUBSCRIBED here (CHILDINFO "SUBSCRIBED").
    if (recursive && !subscribed_only) return bad(cmd.tag, syntax, out);
    ++at;
  }
  if (args.size() < at + 2 || !args[at].is_astring()) return bad(cmd.tag, syntax, out);
  const std::size_t reference_at = at;
  std::vector<std::string> patterns;
  const auto& pattern_token = args[at + 1];
  if (!lsub && pattern_token.type == wire::Token::Type::list) {
    extended = true;
    for (const auto& p : pattern_token.children) {
      if (!p.is_astring()) return bad(cmd.tag, syntax, out);
      patterns.push_back(p.value);
    }
    if (patterns.empty()) return bad(cmd.tag, syntax, out);
  } else if (pattern_token.is_astring()) {
    patterns.push_back(pattern_token.value);
  } else {
    return bad(cmd.tag, syntax, out);
  }
  at += 2;
  if (!lsub && args.size() == at + 2 && base::iequals(args[at].value, "RETURN") &&
      args[at + 1].type == wire::Token::Type::list) {
    extended = true;
    const auto& options = args[at + 1].children;
    for (std::size_t i = 0; i < options.size(); ++i) {
      const auto option = base::to_upper(options[i].value);
      if (option == "SUBSCRIBED") {
        return_subscribed = true;
      } else if (option == "STATUS" && i + 1 < options.size()) {
        status = status_items(options[++i]);
        if (!status) return bad(cmd.tag, "Invalid STATUS return option", out);
      } else if (option != "CHILDREN" && option != "SPECIAL-USE") {
        // Children and special uses are always told.
        return bad(cmd.tag, "Unknown LIST return option", out);
      }
    }
    at += 2;
  }
  if (args.size() != at) return bad(cmd.tag, syntax, out);

  auto reference = name_from_wire(args[reference_at].value);
  std::vector<std::string> full;
  for (const auto& p : patterns) {
    auto decoded = name_from_wire(p);
    if (!reference || !decoded) {
      out.bytes += wire::tagged(cmd.tag, "NO [CANNOT] Invalid mailbox name encoding");
      return;
    }
    full.push_back(wire::fold_inbox(*reference + *decoded));
  }
  if (patterns.size() == 1 && patterns[0].empty() && !lsub && !extended) {
    // RFC 3501 §6.3.8: an empty pattern asks for the hierarchy delimiter.
    out.bytes += "* LIST (\\Noselect) \"/\" \"\"\r\n";
    out.bytes += wire::tagged(cmd.tag, "OK LIST completed");
    return;
  }
  const bool tell_subscribed = subscribed_only || return_subscribed;
  out.after = net::After::work;
  out.work = [this, tag = cmd.tag, lsub, full, subscribed_only, recursive, special_only,
              tell_subscribed, status] {
    auto boxes = settings_.store->list_mailboxes(account_id());
    if (!boxes) {
      work_.reply = wire::tagged(tag, no_for(boxes.error()));
      return;
    }
    auto selected = [&](const store::MailboxInfo& b) {
      if ((lsub || subscribed_only) && !b.is_subscribed) return false;
      if (special_only && b.special_use == store::SpecialUse::none) return false;
      return true;
    };
    const std::string verb = lsub ? "LSUB" : "LIST";
    for (const auto& b : *boxes) {
      if (std::none_of(full.begin(), full.end(),
                       [&](const std::string& p) { return wire::list_matches(p, b.name); }))
        continue;
      bool has_children = false, child_selected = false;
      for (const auto& other : *boxes) {
        if (!other.name.starts_with(b.name + "/")) continue;
        has_children = true;
        child_selected = child_selected || selected(other);
      }
      // RFC 5258 §3.5: with RECURSIVEMATCH a parent is listed for its selected children.
      const bool is_selected = selected(b);
      if (!is_selected && !(recursive && child_selected)) continue;
      std::string attributes = has_children ? "\\HasChildren" : "\\HasNoChildren";
      if (!lsub && tell_subscribed && b.is_subscribed) attributes += " \\Subscribed";
      // RFC 6154 §2: the mailbox's special use, so that clients find Sent, Trash, ….
      if (!lsub && b.special_use != store::SpecialUse::none)
        attributes += std::string(" ") + store::to_string(b.special_use);
      std::string line = "* " + verb + " (" + attributes + ") \"/\" " + name_to_wire(b.name);
      if (recursive && child_selected) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
      work_.reply += line + "\r\n";
      // RFC 5819: the STATUS of each selectable mailbox right after its LIST.
      if (status) work_.reply += status_line(b, *status);
    }
    work_.reply += wire::tagged(tag, "OK " + verb + " completed");
  };
}

}  // namespace postino::imap
