// `postino domain|user|alias|quota|queue|fsck …`: administration of the mail store. Every
// command opens the store the server uses (safe while it runs: SQLite WAL), says what it
// did on stdout, and on failure prints the reason on stderr and exits non-zero.
#include "app/store_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/privileges.hpp"
#include "app/store_options.hpp"
#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "config/load.hpp"
#include "store/json.hpp"

namespace postino::app {
namespace {

using store::ErrorKind;

struct Failure {
  int code;
  std::string message;
};

std::unique_ptr<store::Store> open_store(const StoreLocation& where) {
  std::string error;
  auto cfg = location_config(where, error);
  if (!error.empty()) throw Failure{2, error};
  if (auto err = become_server_user(cfg); !err.empty()) throw Failure{1, err};
  auto s = store::open_sqlite_store(store_options(cfg));
  if (!s) {
    throw Failure{1, "cannot open the store in " + cfg.server.data_dir + ": " + s.error().detail};
  }
  return std::move(*s);
}

template <class T>
T check(store::Result<T> r, const std::string& what) {
  if (!r) {
    throw Failure{r.error().kind == ErrorKind::temporary ? 75 : 1, what + ": " + r.error().detail};
  }
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

// The new password: one line from stdin with --password-stdin, else typed twice on the
// terminal without echo. Never prompts when stdin is not a terminal.
std::string read_password(bool from_stdin) {
  std::string password;
  if (from_stdin) {
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else if (isatty(STDIN_FILENO)) {
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string again;
    std::cerr << "Password: " << std::flush;
    std::getline(std::cin, password);
    std::cerr << "\nAgain: " << std::flush;
    std::getline(std::cin, again);
    std::cerr << "\n";
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    if (password != again) throw Failure{2, "the passwords differ"};
  } else {
    throw Failure{2, "standard input is not a terminal: give the password with --password-stdin"};
  }
  if (password.empty()) throw Failure{2, "the password is empty"};
  if (password.find('\0') != std::string::npos) throw Failure{2, "the password contains NUL"};
  return password;
}

struct Hashes {
  std::string crypt, scram;
};

Hashes hash(const std::string& password) {
  Hashes h{auth::hash_password(password), auth::ScramCredentials::derive(password).str()};
  if (h.crypt.empty()) throw Failure{1, "cannot hash the password"};
  return h;
}

// "12345", "10K", "50M", "2G" → bytes.
std::int64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    throw Failure{2, "not a size: " + text};
  }
  std::string unit = text.substr(used);
  long long mult = 1;
  if (unit == "K" || unit == "k")
    mult = 1024;
  else if (unit == "M" || unit == "m")
    mult = 1024 * 1024;
  else if (unit == "G" || unit == "g")
    mult = 1024LL * 1024 * 1024;
  else if (!unit.empty())
    throw Failure{2, "not a size: " + text};
  if (n < 0) throw Failure{2, "a size cannot be negative"};
  return n * mult;
}

// Dovecot passwd-file lines: "user:{SCHEME}hash:uid:gid:…"; crypt(3) schemes only.
std::optional<std::string> passwd_file_hash(std::string field) {
  for (auto prefix : {"{SHA512-CRYPT}", "{SHA256-CRYPT}", "{BLF-CRYPT}", "{CRYPT}", "{YESCRYPT}"}) {
    if (field.starts_with(prefix)) {
      field = field.substr(std::string_view(prefix).size());
      break;
    }
  }
  if (!auth::is_supported_hash(field)) return std::nullopt;
  return field;
}

int import_passwd(store::Store& s, const std::string& file, const std::string& domain) {
  std::ifstream in(file);
  if (!in) throw Failure{1, "cannot read " + file};
  std::string line;
  int added = 0, skipped = 0, number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    const auto end = line.find(':', colon + 1);
    if (colon == std::string::npos) {
      std::cerr << file << ":" << number << ": no ':' in the line; skipped\n";
      ++skipped;
      continue;
    }
    std::string user = line.substr(0, colon);
    if (user.find('@') == std::string::npos) {
      if (domain.empty()) {
        std::cerr << file << ":" << number << ": '" << user
                  << "' has no domain (give --domain); skipped\n";
        ++skipped;
        continue;
      }
      user += "@" + domain;
    }
    auto h =
        passwd_file_hash(line.substr(colon + 1, end == std::string::npos ? end : end - colon - 1));
    if (!h) {
      std::cerr << file << ":" << number << ": " << user
                << ": unsupported password scheme; skipped\n";
      ++skipped;
      continue;
    }
    // SCRAM keys need the password itself: imported users log in with PLAIN/LOGIN until
    // they next change their password.
    auto r = s.create_account(user, *h, "");
    if (!r) {
      std::cerr << file << ":" << number << ": " << user << ": " << r.error().detail
                << "; skipped\n";
      ++skipped;
      continue;
    }
    ++added;
  }
  std::cout << "imported " << added << " users, skipped " << skipped << "\n";
  return skipped == 0 ? 0 : 1;
}

using store::iso_time;
using store::recipient_state;

// One entry as `queue list` shows it: a line for the message, one per pending recipient.
void print_queue_entry(const store::QueueEntry& e, bool all_recipients) {
  std::string state = e.is_held ? "held" : !e.claimed_by.empty() ? "in delivery" : "waiting";
  std::cout << e.queue_id << "  " << e.size << " bytes  " << iso_time(e.created) << "  <"
            << e.sender << ">  " << state << ", " << e.attempts << " attempts, next "
            << iso_time(e.next_attempt) << "\n";
  for (std::size_t i = 0; i < e.recipients.size(); ++i) {
    if (!all_recipients && e.statuses[i] != 0) continue;
    std::cout << "    " << e.recipients[i].address << "  " << recipient_state(e.statuses[i]);
    if (!e.last_replies[i].empty()) std::cout << "  (" << e.last_replies[i] << ")";
    std::cout << "\n";
  }
}

void add_queue_commands(
    CLI::App& app, std::function<int()>& run,
    const std::function<std::function<int()>(std::function<int(store::Store&)>)>& guarded) {
  static std::string id;
  static bool as_json = false;
  auto* queue = app.add_subcommand(
      "queue", "Show and manage the outbound queue (works while the server runs).");
  queue->require_subcommand(1);
  queue->footer("Example:\n  postino queue list");
  auto* list = queue->add_subcommand("list", "List queued messages and their recipients.");
  list->add_flag("--json", as_json, "JSON output");
  list->footer("Example:\n  postino queue list --json");
  list->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto entries = check(s.list_queue(), "queue list");
      if (as_json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : entries) out.push_back(store::to_json(e));
        std::cout << out.dump(2) << "\n";
      } else {
        for (const auto& e : entries) print_queue_entry(e, false);
        std::cout << entries.size()
                  << (entries.size() == 1 ? " queued message\n" : " queued messages\n");
      }
      return 0;
    });
  });
  auto* show = queue->add_subcommand("show", "Show one queued message with every recipient.");
  show->add_option("ID", id)->required();
  show->add_flag("--json", as_json, "JSON output");
  show->footer("Example:\n  postino queue show Q0123456789BCD");
  show->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto e = check(s.queue_entry(id), "queue show " + id);
      if (as_json) {
        std::cout << store::to_json(e).dump(2) << "\n";
      } else {
        print_queue_entry(e, true);
      }
      return 0;
    });
  });
  struct Action {
    const char* name;
    const char* help;
    store::QueueAction action;
    bool id_optional;
    const char* done;
  };
  static const Action actions[] = {
      {"flush", "Try now: one message, or all of them without ID.", store::QueueAction::flush, true,
       "due now"},
      {"hold", "Keep a message from being tried until released.", store::QueueAction::hold, false,
       "held"},
      {"release", "Try a held message again, now.", store::QueueAction::release, false, "released"},
      {"bounce", "Return a message to its sender with a delivery report.",
       store::QueueAction::bounce, false, "to be returned to its sender"},
      {"delete", "Delete a message without telling its sender.", store::QueueAction::remove, false,
       "deleted"},
  };
  for (const auto& a : actions) {
    auto* cmd = queue->add_subcommand(a.name, a.help);
    auto* option = cmd->add_option("ID", id);
    if (!a.id_optional) option->required();
    cmd->footer(std::string("Example:\n  postino queue ") + a.name + " Q0123456789BCD");
    cmd->callback([&run, guarded, &a] {
      run = guarded([&a](store::Store& s) {
        const auto n = check(s.change_queue(id, a.action),
                             std::string("queue ") + a.name + (id.empty() ? "" : " " + id));
        std::cout << n << (n == 1 ? " message " : " messages ") << a.done << "\n";
        return 0;
      });
    });
  }
}

}  // namespace

std::string become_server_user(const config::Config& cfg) {
  std::string error;
  const auto privileges = Privileges::resolve(cfg.server.user, error);
  if (error.empty()) error = privileges.prepare_data_dir(cfg.server.data_dir);
  if (error.empty()) error = privileges.drop();
  return error;
}

config::Config location_config(const StoreLocation& where, std::string& error) {
  config::Config cfg;
  if (!where.config_file.empty()) {
    auto errors = config::apply_file(cfg, where.config_file);
    if (!errors.empty()) error = errors.front().str();
  } else {
    cfg.server.data_dir = "var/dev";
  }
  if (!where.data_dir.empty()) cfg.server.data_dir = where.data_dir;
  return cfg;
}

void add_store_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run) {
  auto guarded = [&where](std::function<int(store::Store&)> body) {
    return [&where, body] {
      try {
        auto s = open_store(where);
        return body(*s);
      } catch (const Failure& f) {
        std::cerr << "postino: " << f.message << "\n";
        return f.code;
      }
    };
  };
  // Shared option storage; CLI11 binds to these for the life of `app`.
  static std::string name, target_file, domain_filter;
  static std::vector<std::string> targets;
  static bool password_stdin = false, as_json = false, repair = false;
  static std::string quota_bytes, quota_messages;

  auto* domain = app.add_subcommand("domain", "Manage the mail domains served here.");
  domain->require_subcommand(1);
  domain->footer("Example:\n  postino domain add example.org");
  auto* domain_add = domain->add_subcommand("add", "Add a domain.");
  domain_add->add_option("DOMAIN", name)->required();
  domain_add->footer("Example:\n  postino domain add example.org");
  domain_add->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      check(s.create_domain(name), "domain add " + name);
      std::cout << "added domain " << name << "\n";
      return 0;
    });
  });
  auto* domain_list = domain->add_subcommand("list", "List the domains.");
  domain_list->add_flag("--json", as_json, "JSON output");
  domain_list->footer("Example:\n  postino domain list --json");
  domain_list->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto domains = check(s.list_domains(), "domain list");
      if (as_json) {
        std::cout << nlohmann::json(domains).dump(2) << "\n";
      } else {
        for (const auto& d : domains) std::cout << d << "\n";
      }
      return 0;
    });
  });
  auto* domain_del =
      domain->add_subcommand("del", "Delete a domain that has no users or aliases left.");
  domain_del->add_option("DOMAIN", name)->required();
  domain_del->footer("Example:\n  postino domain del example.org");
  domain_del->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      check(s.delete_domain(name), "domain del " + name);
      std::cout << "deleted domain " << name << "\n";
      return 0;
    });
  });

  auto* user = app.add_subcommand("user", "Manage mail accounts.");
  user->require_subcommand(1);
  user->footer("Example:\n  echo 's3cret' | postino user add alice@example.org --password-stdin");
  auto* user_add = user->add_subcommand(
      "add", "Add an account with INBOX, Sent, Drafts, Trash, Junk and Archive.");
  user_add->add_option("ADDRESS", name)->required();
  user_add->add_flag("--password-stdin", password_stdin, "Read the password from standard input");
  user_add->footer(
      "Example:\n  echo 's3cret' | postino user add alice@example.org --password-stdin");
  user_add->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      const auto h = hash(read_password(password_stdin));
      check(s.create_account(name, h.crypt, h.scram), "user add " + name);
      std::cout << "added user " << name << "\n";
      return 0;
    });
  });
  auto* user_list = user->add_subcommand("list", "List accounts, of one domain or all.");
  user_list->add_option("DOMAIN", domain_filter, "Only this domain");
  user_list->add_flag("--json", as_json, "JSON output");
  user_list->footer("Example:\n  postino user list example.org");
  user_list->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto accounts = check(s.list_accounts(domain_filter), "user list");
      nlohmann::json out = nlohmann::json::array();
      for (const auto& a : accounts) {
        auto usage = check(s.quota_usage(a.id), "quota");
        if (as_json) {
          out.push_back(store::to_json(a.address, usage));
        } else {
          std::cout << a.address << "  " << usage.messages << " messages, " << usage.bytes
                    << " bytes\n";
        }
      }
      if (as_json) std::cout << out.dump(2) << "\n";
      return 0;
    });
  });
  auto* user_del = user->add_subcommand("del", "Delete an account with all its mail.");
  user_del->add_option("ADDRESS", name)->required();
  user_del->footer("Example:\n  postino user del alice@example.org");
  user_del->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      check(s.delete_account(name), "user del " + name);
      std::cout << "deleted user " << name << "\n";
      return 0;
    });
  });
  auto* user_passwd = user->add_subcommand("passwd", "Set an account's password.");
  user_passwd->add_option("ADDRESS", name)->required();
  user_passwd->add_flag("--password-stdin", password_stdin,
                        "Read the password from standard input");
  user_passwd->footer(
      "Example:\n  echo 'n3w' | postino user passwd alice@example.org --password-stdin");
  user_passwd->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      const auto h = hash(read_password(password_stdin));
      check(s.set_password(name, h.crypt, h.scram), "user passwd " + name);
      std::cout << "changed the password of " << name << "\n";
      return 0;
    });
  });
  auto* user_import =
      user->add_subcommand("import-passwd", "Import accounts from a Dovecot passwd-file.");
  user_import->add_option("FILE", target_file)->required();
  user_import->add_option("--domain", domain_filter, "Domain for user names without one");
  user_import->footer(
      "Example:\n  postino user import-passwd /etc/dovecot/users --domain example.org");
  user_import->callback([&run, guarded] {
    run = guarded([](store::Store& s) { return import_passwd(s, target_file, domain_filter); });
  });

  auto* alias =
      app.add_subcommand("alias", "Manage aliases (one address to many) and catch-alls (@domain).");
  alias->require_subcommand(1);
  alias->footer(
      "Example:\n  postino alias add sales@example.org alice@example.org bob@example.org");
  auto* alias_add = alias->add_subcommand("add", "Add an alias.");
  alias_add->add_option("ALIAS", name, "local@domain, or @domain for a catch-all")->required();
  alias_add->add_option("TARGET", targets, "Addresses to deliver to")->required();
  alias_add->footer("Example:\n  postino alias add @example.org postmaster@example.org");
  alias_add->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      check(s.create_alias({name, targets}), "alias add " + name);
      std::cout << "added alias " << name << "\n";
      return 0;
    });
  });
  auto* alias_list = alias->add_subcommand("list", "List aliases.");
  alias_list->add_option("DOMAIN", domain_filter, "Only this domain");
  alias_list->add_flag("--json", as_json, "JSON output");
  alias_list->footer("Example:\n  postino alias list --json");
  alias_list->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto aliases = check(s.list_aliases(domain_filter), "alias list");
      nlohmann::json out = nlohmann::json::array();
      for (const auto& a : aliases) {
        if (as_json) {
          out.push_back(store::to_json(a));
        } else {
          std::cout << a.address << " ->";
          for (const auto& t : a.targets) std::cout << " " << t;
          std::cout << "\n";
        }
      }
      if (as_json) std::cout << out.dump(2) << "\n";
      return 0;
    });
  });
  auto* alias_del = alias->add_subcommand("del", "Delete an alias.");
  alias_del->add_option("ALIAS", name)->required();
  alias_del->footer("Example:\n  postino alias del sales@example.org");
  alias_del->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      check(s.delete_alias(name), "alias del " + name);
      std::cout << "deleted alias " << name << "\n";
      return 0;
    });
  });

  auto* quota = app.add_subcommand("quota", "Show or set an account's quota.");
  quota->require_subcommand(1);
  quota->footer("Example:\n  postino quota set alice@example.org --bytes 2G --messages 100000");
  auto* quota_set = quota->add_subcommand("set", "Set the quota (0 = unlimited).");
  quota_set->add_option("ADDRESS", name)->required();
  quota_set->add_option("--bytes", quota_bytes, "Size limit: N, NK, NM or NG")->default_val("0");
  quota_set->add_option("--messages", quota_messages, "Message count limit")->default_val("0");
  quota_set->footer("Example:\n  postino quota set alice@example.org --bytes 2G");
  quota_set->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      check(s.set_quota(name, {parse_size(quota_bytes), parse_size(quota_messages)}),
            "quota set " + name);
      std::cout << "set the quota of " << name << "\n";
      return 0;
    });
  });
  auto* quota_get = quota->add_subcommand("get", "Show the quota and what is used.");
  quota_get->add_option("ADDRESS", name)->required();
  quota_get->add_flag("--json", as_json, "JSON output");
  quota_get->footer("Example:\n  postino quota get alice@example.org");
  quota_get->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto account = check(s.find_account(name), "quota get " + name);
      auto u = check(s.quota_usage(account.id), "quota get " + name);
      if (as_json) {
        std::cout << store::to_json(account.address, u).dump(2) << "\n";
      } else {
        auto limit = [](std::int64_t v) {
          return v == 0 ? std::string("unlimited") : std::to_string(v);
        };
        std::cout << account.address << ": " << u.bytes << " of " << limit(u.quota.max_bytes)
                  << " bytes, " << u.messages << " of " << limit(u.quota.max_messages)
                  << " messages\n";
      }
      return 0;
    });
  });

  add_queue_commands(app, run, guarded);

  auto* fsck =
      app.add_subcommand("fsck", "Check the store's invariants; --repair fixes what it can.");
  fsck->add_flag("--repair", repair,
                 "Repair reference counts and quota usage, remove lost messages");
  fsck->footer("Example:\n  postino fsck --data /var/lib/postino --repair");
  fsck->callback([&run, guarded] {
    run = guarded([](store::Store& s) {
      auto report = check(s.fsck(repair), "fsck");
      std::cout << report.mailboxes << " mailboxes, " << report.messages << " messages, "
                << report.blobs << " blobs\n";
      for (const auto& p : report.problems) std::cout << "problem: " << p << "\n";
      for (const auto& r : report.repairs) std::cout << "repaired: " << r << "\n";
      if (report.problems.empty()) std::cout << "ok\n";
      return report.problems.empty() || repair ? 0 : 1;
    });
  });
}

}  // namespace postino::app
