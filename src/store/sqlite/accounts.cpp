// Domains, accounts, quotas, aliases and recipient resolution of the SQLite store.
#include <set>

#include "store/sqlite/store_impl.hpp"

namespace postino::store::sqlite {
namespace {

constexpr SpecialUse default_special_use[] = {
    SpecialUse::sent, SpecialUse::drafts, SpecialUse::trash, SpecialUse::junk, SpecialUse::archive};
constexpr const char* default_special_names[] = {"Sent", "Drafts", "Trash", "Junk", "Archive"};
constexpr int max_alias_depth = 10;

std::string domain_or_throw(std::string_view domain) {
  auto d = canonical_domain(domain);
  if (!d) throw_error(ErrorKind::invalid, "invalid domain name");
  return *d;
}

AddressParts address_or_throw(std::string_view address) {
  auto a = parse_address(address);
  if (!a) throw_error(ErrorKind::invalid, "invalid address");
  return *a;
}

std::int64_t domain_id(Database& db, const std::string& domain) {
  auto& q = db.prepare("SELECT id FROM domains WHERE name = ?");
  q.bind_all(domain);
  if (!q.step()) throw_error(ErrorKind::not_found, "no such domain: " + domain);
  return q.int64(0);
}

Account read_account(Statement& q) {
  Account a;
  a.id = AccountId(q.int64(0));
  a.address = q.text(1);
  a.password_hash = q.text(2);
  a.scram = q.text(3);
  a.quota = {q.int64(4), q.int64(5)};
  return a;
}

constexpr const char* account_columns =
    "SELECT id, address, password_hash, scram, quota_bytes, quota_messages FROM accounts ";

std::vector<std::string> alias_targets(Database& db, std::int64_t alias_id) {
  std::vector<std::string> targets;
  auto& q = db.prepare("SELECT target FROM alias_targets WHERE alias_id = ? ORDER BY position");
  q.bind_all(alias_id);
  while (q.step()) targets.push_back(q.text(0));
  return targets;
}

}  // namespace

Result<void> SqliteStore::create_domain(std::string_view domain) {
  return guard([&] {
    const auto name = domain_or_throw(domain);
    writer_->run([&](Database& db) {
      auto& q = db.prepare("INSERT INTO domains (name) VALUES (?)");
      q.bind_all(name).run();
    });
  });
}

Result<void> SqliteStore::delete_domain(std::string_view domain) {
  return guard([&] {
    const auto name = domain_or_throw(domain);
    writer_->run([&](Database& db) {
      const auto id = domain_id(db, name);
      auto& users = db.prepare(
          "SELECT (SELECT count(*) FROM accounts WHERE domain_id = ?1) + "
          "(SELECT count(*) FROM aliases WHERE domain_id = ?1)");
      users.bind_all(id);
      users.step();
      if (users.int64(0) > 0) {
        throw_error(ErrorKind::in_use, "the domain still has accounts or aliases");
      }
      db.prepare("DELETE FROM domains WHERE id = ?").bind_all(id).run();
    });
  });
}

Result<std::vector<std::string>> SqliteStore::list_domains() {
  return guard([&] {
    return readers_.run([&](Database& db) {
      std::vector<std::string> out;
      auto& q = db.prepare("SELECT name FROM domains ORDER BY name");
      while (q.step()) out.push_back(q.text(0));
      return out;
    });
  });
}

Result<bool> SqliteStore::is_local_domain(std::string_view domain) {
  return guard([&] {
    auto name = canonical_domain(domain);
    if (!name) return false;
    return readers_.run([&](Database& db) {
      auto& q = db.prepare("SELECT 1 FROM domains WHERE name = ?");
      q.bind_all(*name);
      return q.step();
    });
  });
}

Result<AccountId> SqliteStore::create_account(std::string_view address,
                                              std::string_view password_hash,
                                              std::string_view scram) {
  return guard([&] {
    const auto parts = address_or_throw(address);
    const auto canonical = parts.str();
    return writer_->run([&](Database& db) {
      const auto domain = domain_id(db, parts.domain);
      auto& alias = db.prepare("SELECT 1 FROM aliases WHERE address = ?");
      alias.bind_all(canonical);
      if (alias.step()) throw_error(ErrorKind::already_exists, "an alias has that address");
      db.prepare(
            "INSERT INTO accounts (domain_id, address, password_hash, scram) VALUES (?, ?, ?, ?)")
          .bind_all(domain, canonical, password_hash, scram)
          .run();
      const AccountId id(db.last_insert_id());
      insert_mailbox(db, id, "INBOX", SpecialUse::none);
      for (std::size_t i = 0; i < std::size(default_special_use); ++i) {
        insert_mailbox(db, id, default_special_names[i], default_special_use[i]);
      }
      db.prepare("UPDATE mailboxes SET subscribed = 1 WHERE account_id = ?")
          .bind_all(id.value)
          .run();
      return id;
    });
  });
}

Result<void> SqliteStore::delete_account(std::string_view address) {
  return guard([&] {
    const auto canonical = address_or_throw(address).str();
    writer_->run([&](Database& db) {
      auto& q = db.prepare("SELECT id FROM accounts WHERE address = ?");
      q.bind_all(canonical);
      if (!q.step()) throw_error(ErrorKind::not_found, "no such account");
      const auto id = q.int64(0);
      q.reset();
      // Messages first, while their mailboxes still say whose they are (quota triggers).
      db.prepare(
            "DELETE FROM messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = "
            "?)")
          .bind_all(id)
          .run();
      db.prepare("DELETE FROM accounts WHERE id = ?").bind_all(id).run();
    });
  });
}

Result<void> SqliteStore::set_password(std::string_view address, std::string_view password_hash,
                                       std::string_view scram) {
  return guard([&] {
    const auto canonical = address_or_throw(address).str();
    writer_->run([&](Database& db) {
      db.prepare("UPDATE accounts SET password_hash = ?, scram = ? WHERE address = ?")
          .bind_all(password_hash, scram, canonical)
          .run();
      if (db.changes() == 0) throw_error(ErrorKind::not_found, "no such account");
    });
  });
}

Result<Account> SqliteStore::find_account(std::string_view address) {
  return guard([&] {
    const auto canonical = address_or_throw(address).str();
    return readers_.run([&](Database& db) {
      auto& q = db.prepare(std::string(account_columns) + "WHERE address = ?");
      q.bind_all(canonical);
      if (!q.step()) throw_error(ErrorKind::not_found, "no such account");
      return read_account(q);
    });
  });
}

Result<Account> SqliteStore::account(AccountId id) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      auto& q = db.prepare(std::string(account_columns) + "WHERE id = ?");
      q.bind_all(id.value);
      if (!q.step()) throw_error(ErrorKind::not_found, "no such account");
      return read_account(q);
    });
  });
}

Result<std::vector<Account>> SqliteStore::list_accounts(std::string_view domain) {
  return guard([&] {
    const auto name = domain.empty() ? std::string() : domain_or_throw(domain);
    return readers_.run([&](Database& db) {
      std::vector<Account> out;
      auto& q = db.prepare(std::string(account_columns) +
                           "WHERE ?1 = '' OR domain_id = (SELECT id FROM domains WHERE name = ?1) "
                           "ORDER BY address");
      q.bind_all(name);
      while (q.step()) out.push_back(read_account(q));
      return out;
    });
  });
}

Result<void> SqliteStore::set_quota(std::string_view address, Quota quota) {
  return guard([&] {
    if (quota.max_bytes < 0 || quota.max_messages < 0) {
      throw_error(ErrorKind::invalid, "a quota cannot be negative");
    }
    const auto canonical = address_or_throw(address).str();
    writer_->run([&](Database& db) {
      db.prepare("UPDATE accounts SET quota_bytes = ?, quota_messages = ? WHERE address = ?")
          .bind_all(quota.max_bytes, quota.max_messages, canonical)
          .run();
      if (db.changes() == 0) throw_error(ErrorKind::not_found, "no such account");
    });
  });
}

Result<QuotaUsage> SqliteStore::quota_usage(AccountId id) {
  return guard([&] {
    return readers_.run([&](Database& db) {
      auto& q = db.prepare(account_usage_query);
      q.bind_all(id.value);
      if (!q.step()) throw_error(ErrorKind::not_found, "no such account");
      return QuotaUsage{{q.int64(0), q.int64(1)}, q.int64(2), q.int64(3)};
    });
  });
}

Result<void> SqliteStore::create_alias(const Alias& alias) {
  return guard([&] {
    std::string canonical, domain;
    if (alias.address.starts_with("@")) {
      domain = domain_or_throw(alias.address.substr(1));
      canonical = "@" + domain;
    } else {
      const auto parts = address_or_throw(alias.address);
      canonical = parts.str();
      domain = parts.domain;
    }
    if (alias.targets.empty()) throw_error(ErrorKind::invalid, "an alias needs a target");
    std::vector<std::string> targets;
    for (const auto& t : alias.targets) targets.push_back(address_or_throw(t).str());
    writer_->run([&](Database& db) {
      const auto did = domain_id(db, domain);
      auto& account = db.prepare("SELECT 1 FROM accounts WHERE address = ?");
      account.bind_all(canonical);
      if (account.step()) throw_error(ErrorKind::already_exists, "an account has that address");
      db.prepare("INSERT INTO aliases (domain_id, address) VALUES (?, ?)")
          .bind_all(did, canonical)
          .run();
      const auto id = db.last_insert_id();
      for (std::size_t i = 0; i < targets.size(); ++i) {
        db.prepare("INSERT INTO alias_targets (alias_id, position, target) VALUES (?, ?, ?)")
            .bind_all(id, static_cast<std::int64_t>(i), targets[i])
            .run();
      }
    });
  });
}

Result<void> SqliteStore::delete_alias(std::string_view address) {
  return guard([&] {
    const std::string canonical = address.starts_with("@")
                                      ? "@" + domain_or_throw(address.substr(1))
                                      : address_or_throw(address).str();
    writer_->run([&](Database& db) {
      db.prepare("DELETE FROM aliases WHERE address = ?").bind_all(canonical).run();
      if (db.changes() == 0) throw_error(ErrorKind::not_found, "no such alias");
    });
  });
}

Result<std::vector<Alias>> SqliteStore::list_aliases(std::string_view domain) {
  return guard([&] {
    const auto name = domain.empty() ? std::string() : domain_or_throw(domain);
    return readers_.run([&](Database& db) {
      std::vector<std::pair<std::int64_t, std::string>> rows;
      auto& q = db.prepare(
          "SELECT id, address FROM aliases WHERE ?1 = '' OR domain_id = "
          "(SELECT id FROM domains WHERE name = ?1) ORDER BY address");
      q.bind_all(name);
      while (q.step()) rows.emplace_back(q.int64(0), q.text(1));
      q.reset();
      std::vector<Alias> out;
      for (auto& [id, address] : rows) out.push_back({address, alias_targets(db, id)});
      return out;
    });
  });
}

Result<Resolution> SqliteStore::resolve(std::string_view address) {
  return guard([&] {
    const auto start = address_or_throw(address);
    return readers_.run([&](Database& db) {
      Resolution out;
      std::set<std::string> seen;
      auto is_local = [&](const std::string& domain) {
        auto& q = db.prepare("SELECT 1 FROM domains WHERE name = ?");
        q.bind_all(domain);
        return q.step();
      };
      if (!is_local(start.domain)) throw_error(ErrorKind::invalid, "not a local domain");
      // Returns false when `parts` names nothing here.
      std::function<bool(const AddressParts&, int)> expand = [&](const AddressParts& parts,
                                                                 int depth) -> bool {
        const auto canonical = parts.str();
        if (!seen.insert(canonical).second || depth > max_alias_depth) return true;  // loop cut
        if (!is_local(parts.domain)) {
          out.remote.push_back(canonical);
          return true;
        }
        auto& account = db.prepare("SELECT 1 FROM accounts WHERE address = ?");
        account.bind_all(canonical);
        if (account.step()) {
          out.local_accounts.push_back(canonical);
          return true;
        }
        auto lookup_alias = [&](const std::string& key) -> std::optional<std::vector<std::string>> {
          auto& alias = db.prepare("SELECT id FROM aliases WHERE address = ?");
          alias.bind_all(key);
          if (!alias.step()) return std::nullopt;
          const auto id = alias.int64(0);
          alias.reset();
          return alias_targets(db, id);
        };
        auto targets = lookup_alias(canonical);
        // Sub-addressing: "user+tag" delivers to "user" (RFC 5233).
        if (!targets) {
          if (auto plus = parts.local.find('+'); plus != std::string::npos && plus > 0) {
            return expand({parts.local.substr(0, plus), parts.domain}, depth + 1);
          }
          targets = lookup_alias("@" + parts.domain);  // the domain's catch-all
        }
        if (!targets) return false;
        for (const auto& t : *targets) {
          if (auto tp = parse_address(t)) expand(*tp, depth + 1);
        }
        return true;
      };
      if (!expand(start, 0)) throw_error(ErrorKind::not_found, "no such user");
      return out;
    });
  });
}

}  // namespace postino::store::sqlite
