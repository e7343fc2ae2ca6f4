// `postino quickstart ADDRESS`: from a fresh machine to a configured server for a real
// domain: a production configuration, a certificate to start with, the domain, the first
// account (its random password printed once), the postmaster alias, DKIM keys, a hardened
// systemd unit, and every DNS record to publish. Nothing existing is overwritten: it
// refuses before writing anything when the configuration or the unit exists.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/dev_setup.hpp"
#include "app/store_commands.hpp"
#include "app/store_options.hpp"
#include "auth/password.hpp"
#include "auth/scram.hpp"
#include "base/ascii.hpp"
#include "base/durable_file.hpp"
#include "config/keys.hpp"
#include "config/load.hpp"
#include "dkim/signer.hpp"
#include "net/self_signed.hpp"

namespace postino::app {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string address;
  std::string hostname;
  std::string config_dir = "/etc/postino";
  std::string data_dir = "/var/lib/postino";
  std::string user = "postino";
  std::string unit_dir = "/etc/systemd/system";
  std::vector<std::string> addresses;
};

std::string config_text(const Options& o, const std::string& domain, const fs::path& tls_dir) {
  char date[32];
  const auto now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  using config::toml_quote;
  return "# Written by `postino quickstart " + o.address + "` on " + date +
         ".\n"
         "# Every key and its default: `postino config example`; check: `postino config test "
         "--config FILE`.\n\n"
         "[server]\n"
         "hostname = " +
         toml_quote(o.hostname) + "\ndata_dir = " + toml_quote(o.data_dir) +
         "\n# Started as root to bind ports 25, 80, 110, 143, 443, 465, 587, 993 and 995, "
         "then runs as this user.\nuser = " +
         toml_quote(o.user) +
         "\n\n[tls]\n"
         "# A self-signed certificate to start with; replace both files with a real one for " +
         o.hostname + ", mta-sts." + domain + " and autoconfig." + domain +
         " (SIGHUP reloads them).\ncert_file = " + toml_quote((tls_dir / "cert.pem").string()) +
         "\nkey_file = " + toml_quote((tls_dir / "key.pem").string()) +
         "\n\n[listen]\n"
         "# The mail ports keep their defaults (all IPv4 addresses); HTTP serves autoconfig,\n"
         "# autodiscover and the MTA-STS policy.\n"
         "http = [\"0.0.0.0:80\"]\nhttps = [\"0.0.0.0:443\"]\n\n"
         "[mta_sts]\n"
         "# `testing` first; `enforce` once `postino dns check` is all ok and TLS works.\n"
         "mode = \"testing\"\n";
}

std::string unit_text(const Options& o, const fs::path& config_file) {
  std::error_code ec;
  auto binary = fs::read_symlink("/proc/self/exe", ec);
  if (ec) binary = "/usr/local/bin/postino";
  return "# Written by `postino quickstart`. Install: systemctl daemon-reload && systemctl "
         "enable --now postino\n"
         "[Unit]\n"
         "Description=Postino mail server (SMTP, submission, IMAP, POP3)\n"
         "Documentation=https://github.com/postino/postino/blob/main/README.md\n"
         "After=network-online.target\nWants=network-online.target\n\n"
         "[Service]\n"
         "Type=simple\n"
         "ExecStart=" +
         binary.string() + " serve --config " + config_file.string() +
         "\n"
         "ExecReload=/bin/kill -HUP $MAINPID\n"
         "Restart=on-failure\n"
         "RestartSec=2\n"
         "LimitNOFILE=65536\n"
         "# Root only to bind the ports and read the key; the server then becomes server.user.\n"
         "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_CHOWN\n"
         "NoNewPrivileges=yes\n"
         "ProtectSystem=strict\n"
         "ReadWritePaths=" +
         o.data_dir +
         "\n"
         "ProtectHome=yes\nPrivateTmp=yes\nPrivateDevices=yes\n"
         "ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n"
         "ProtectControlGroups=yes\nProtectClock=yes\nProtectHostname=yes\n"
         "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n"
         "RestrictNamespaces=yes\nRestrictRealtime=yes\nRestrictSUIDSGID=yes\n"
         "LockPersonality=yes\nMemoryDenyWriteExecute=yes\nSystemCallArchitectures=native\n"
         "SystemCallFilter=@system-service\nUMask=0027\n\n"
         "[Install]\nWantedBy=multi-user.target\n";
}

// chown -R of what quickstart created in the data directory.
void give_to(const fs::path& dir, uid_t uid, gid_t gid) {
  std::error_code ec;
  ::chown(dir.c_str(), uid, gid);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    ::lchown(it->path().c_str(), uid, gid);
  }
}

int quickstart(Options o) {
  o.address = base::to_lower(o.address);
  const auto at = o.address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == o.address.size()) {
    std::cerr << "postino quickstart: " << o.address << " is not an address (user@domain)\n";
    return 2;
  }
  const auto domain = o.address.substr(at + 1);
  if (o.hostname.empty()) o.hostname = "mail." + domain;
  const fs::path config_dir = o.config_dir;
  const fs::path config_file = config_dir / "postino.toml";
  const fs::path unit_file = fs::path(o.unit_dir) / "postino.service";
  const fs::path tls_dir = config_dir / "tls";
  for (const auto& p : {config_file, unit_file}) {
    if (fs::exists(p)) {
      std::cerr << "postino quickstart: " << p.string()
                << " exists already; nothing was changed (move it away to start over)\n";
      return 1;
    }
  }
  const auto password = random_password();
  if (password.empty()) {
    std::cerr << "postino quickstart: cannot read /dev/urandom\n";
    return 1;
  }
  std::error_code ec;
  fs::create_directories(tls_dir, ec);
  if (ec) {
    std::cerr << "postino quickstart: cannot create " << tls_dir.string() << ": " << ec.message()
              << "\n";
    return 1;
  }
  ::chmod(tls_dir.c_str(), 0700);
  const auto cert = net::ensure_self_signed(
      tls_dir / "cert.pem", tls_dir / "key.pem",
      {o.hostname, "mta-sts." + domain, "autoconfig." + domain, "autodiscover." + domain}, {});
  if (!cert.error.empty()) {
    std::cerr << "postino quickstart: " << cert.error << "\n";
    return 1;
  }

  // The configuration as the server will read it.
  const auto text = config_text(o, domain, tls_dir);
  config::Config cfg;
  if (auto errors = config::apply_toml(cfg, text, config_file.string()); !errors.empty()) {
    std::cerr << "postino quickstart: the written configuration has errors (a bug): "
              << errors.front().str() << "\n";
    return 1;
  }
  fs::create_directories(o.data_dir, ec);
  ::chmod(o.data_dir.c_str(), 0750);
  auto opened = store::open_sqlite_store(store_options(cfg));
  if (!opened) {
    std::cerr << "postino quickstart: cannot open the store in " << o.data_dir << ": "
              << opened.error().detail << "\n";
    return 1;
  }
  auto& store = **opened;
  if (auto local = store.is_local_domain(domain); local && !*local) {
    if (auto r = store.create_domain(domain); !r) {
      std::cerr << "postino quickstart: domain " << domain << ": " << r.error().detail << "\n";
      return 1;
    }
  }
  if (auto r = store.create_account(o.address, auth::hash_password(password),
                                    auth::ScramCredentials::derive(password).str());
      !r) {
    std::cerr << "postino quickstart: account " << o.address << ": " << r.error().detail << "\n";
    return 1;
  }
  const auto postmaster = "postmaster@" + domain;
  if (o.address != postmaster && !store.find_account(postmaster)) {
    // RFC 5321 §4.5.1: every domain has a postmaster. One that exists already is kept.
    if (auto r = store.create_alias({postmaster, {o.address}});
        !r && r.error().kind != store::ErrorKind::already_exists) {
      std::cerr << "postino quickstart: alias " << postmaster << ": " << r.error().detail << "\n";
      return 1;
    }
  }
  const auto dkim_dir = cfg.effective_dkim_dir();
  for (auto [selector, algorithm] :
       {std::pair{"postino", dkim::Algorithm::rsa_sha256},
        std::pair{"postino-ed25519", dkim::Algorithm::ed25519_sha256}}) {
    const auto out = dkim::generate_key(dkim_dir, domain, selector, algorithm);
    if (out.starts_with("error:") && out.find("exists already") == std::string::npos) {
      std::cerr << "postino quickstart: DKIM: " << out << "\n";
      return 1;
    }
  }
  opened->reset();

  if (auto err = base::write_file_durably(config_file, text, 0640); !err.empty()) {
    std::cerr << "postino quickstart: " << err << "\n";
    return 1;
  }
  fs::create_directories(o.unit_dir, ec);
  if (auto err = base::write_file_durably(unit_file, unit_text(o, config_file), 0644);
      !err.empty()) {
    std::cerr << "postino quickstart: " << err << "\n";
    return 1;
  }
  const passwd* pw = ::getpwnam(o.user.c_str());
  if (pw && ::geteuid() == 0) give_to(o.data_dir, pw->pw_uid, pw->pw_gid);

  const auto plan = dns_plan(cfg, domain, o.addresses);
  std::cout << "Postino is configured for " << domain << ", served by " << o.hostname << ".\n"
            << "  configuration  " << config_file.string() << "\n"
            << "  data           " << o.data_dir << "\n"
            << "  systemd unit   " << unit_file.string() << "\n"
            << "  certificate    " << (tls_dir / "cert.pem").string()
            << " (self-signed: replace it, see below)\n"
            << "  account        " << o.address << "\n"
            << "  password       " << password << "   (shown only now: write it down)\n"
            << "  postmaster     " << postmaster << " reaches " << o.address << "\n\n"
            << zone_fragment(plan, dns_records(plan)) << "\n"
            << "Next:\n";
  if (!pw) {
    std::cout << "  1. useradd --system --home-dir " << o.data_dir << " --shell /usr/sbin/nologin "
              << o.user << " && chown -R " << o.user << ": " << o.data_dir << "\n";
  } else {
    std::cout << "  1. publish the DNS records above in the zone of " << domain << "\n";
  }
  std::cout << "  2. systemctl daemon-reload && systemctl enable --now postino\n"
            << "  3. postino --config " << config_file.string() << " dns check " << domain << "\n"
            << "Then replace the self-signed certificate. Postino answers on port 80, so let\n"
            << "certbot stop it while it proves the names (its hooks are kept for renewals):\n"
            << "  certbot certonly --standalone --pre-hook 'systemctl stop postino' "
               "--post-hook 'systemctl start postino' -d "
            << o.hostname << " -d mta-sts." << domain << " -d autoconfig." << domain << "\n"
            << "and set tls.cert_file = \"/etc/letsencrypt/live/" << o.hostname
            << "/fullchain.pem\", tls.key_file = \"/etc/letsencrypt/live/" << o.hostname
            << "/privkey.pem\".\n";
  return 0;
}

}  // namespace

void add_quickstart_command(CLI::App& app, std::function<int()>& run) {
  static Options o;
  auto* cmd = app.add_subcommand(
      "quickstart",
      "Configure a server for a real domain: configuration, first account, DKIM, systemd "
      "unit and the DNS records to publish.");
  cmd->add_option("ADDRESS", o.address, "The first account, user@domain")->required();
  cmd->add_option("--hostname", o.hostname, "The mail host's name (default: mail.DOMAIN)");
  cmd->add_option("--ip", o.addresses, "The mail host's public address (repeatable)");
  cmd->add_option("--config-dir", o.config_dir, "Where postino.toml goes")->capture_default_str();
  cmd->add_option("--data-dir", o.data_dir, "The data directory")->capture_default_str();
  cmd->add_option("--user", o.user, "The user the server runs as")->capture_default_str();
  cmd->add_option("--unit-dir", o.unit_dir, "Where postino.service goes")->capture_default_str();
  cmd->footer(
      "Example:\n  postino quickstart alice@example.org --hostname mail.example.org "
      "--ip 203.0.113.7");
  cmd->callback([&run] { run = [] { return quickstart(o); }; });
}

}  // namespace postino::app
