// `postino status`: is the server well? One line per thing to look at, ok / warning /
// failing, and for anything not ok what to do. Exits 1 when something is failing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>

#include "app/dns_check.hpp"
#include "app/store_commands.hpp"
#include "app/store_options.hpp"
#include "net/self_signed.hpp"

namespace postino::app {
namespace {

enum class Level { ok, warning, failing };

struct Report {
  int failing = 0, warnings = 0;
  void line(Level level, const std::string& what, const std::string& text,
            const std::string& fix = "") {
    std::string label = level == Level::ok ? "ok" : level == Level::warning ? "warning" : "failing";
    failing += level == Level::failing;
    warnings += level == Level::warning;
    label.resize(9, ' ');
    std::string topic = what;
    topic.resize(12, ' ');
    std::cout << label << topic << text << "\n";
    if (!fix.empty()) std::cout << "         " << std::string(12, ' ') << "fix: " << fix << "\n";
  }
};

// Whether something accepts TCP connections at address:port within two seconds (an
// unspecified address is tried on the loopback of its family).
bool answers(const config::Endpoint& e) {
  const bool v6 = e.address.find(':') != std::string::npos;
  std::string address = e.address == "0.0.0.0" ? "127.0.0.1"
                        : e.address == "::"    ? "::1"
                                               : e.address;
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(e.port);
    if (inet_pton(AF_INET6, address.c_str(), &a->sin6_addr) != 1) return false;
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(e.port);
    if (inet_pton(AF_INET, address.c_str(), &a->sin_addr) != 1) return false;
    length = sizeof *a;
  }
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t size = sizeof error;
    ok = ::poll(&p, 1, 2000) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 &&
         error == 0;
  }
  ::close(fd);
  return ok;
}

std::string megabytes(std::uint64_t bytes) {
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

int status(const StoreLocation& where, const std::string& resolver, bool skip_dns) {
  std::string error;
  auto cfg = location_config(where, error);
  if (!error.empty()) {
    std::cout << "failing  config      " << error << "\n";
    return 1;
  }
  Report report;
  report.line(Level::ok, "config",
              (where.config_file.empty() ? std::string("defaults") : where.config_file) +
                  ", host name " + cfg.effective_hostname());

  for (auto protocol : config::all_protocols) {
    auto it = cfg.listen.find(protocol);
    if (it == cfg.listen.end()) continue;
    for (const auto& e : it->second) {
      const auto name = std::string(config::to_string(protocol)) + " " + e.str();
      if (answers(e)) {
        report.line(Level::ok, "listener", name + " answers");
      } else {
        report.line(Level::failing, "listener", name + " does not answer",
                    "is the server running? systemctl status postino; journalctl -u postino");
      }
    }
  }

  const auto cert = net::certificate_facts(cfg.tls.cert_file);
  if (!cert.readable) {
    report.line(Level::failing, "certificate", cfg.tls.cert_file + " cannot be read",
                "set tls.cert_file to a PEM certificate chain");
  } else if (cert.days_left < 0) {
    report.line(Level::failing, "certificate",
                "expired " + std::to_string(-cert.days_left) + " days ago",
                "renew it (certbot renew), then systemctl reload postino");
  } else if (cert.days_left < 14) {
    report.line(Level::warning, "certificate",
                "expires in " + std::to_string(cert.days_left) + " days",
                "renew it (certbot renew), then systemctl reload postino");
  } else if (cert.self_signed) {
    report.line(Level::warning, "certificate",
                "self-signed, expires in " + std::to_string(cert.days_left) + " days",
                "clients warn about it: get one from a CA (see postino quickstart's output)");
  } else {
    report.line(Level::ok, "certificate", "expires in " + std::to_string(cert.days_left) + " days");
  }

  if (auto err = become_server_user(cfg); !err.empty()) {
    report.line(Level::failing, "store", err);
    return 1;
  }
  auto opened = store::open_sqlite_store(store_options(cfg));
  if (!opened) {
    report.line(Level::failing, "store",
                "cannot open " + cfg.server.data_dir + ": " + opened.error().detail,
                "postino fsck; check the permissions of server.data_dir");
    return 1;
  }
  auto& store = **opened;
  auto domains = store.list_domains();
  auto accounts = store.list_accounts();
  if (!domains || !accounts) {
    report.line(Level::failing, "store",
                "does not answer: " + (domains ? accounts.error() : domains.error()).detail,
                "postino fsck");
  } else {
    report.line(Level::ok, "store",
                cfg.server.data_dir + ": " + std::to_string(domains->size()) + " domain(s), " +
                    std::to_string(accounts->size()) + " account(s)");
  }

  if (auto free = store.free_bytes()) {
    const auto needed = static_cast<std::uint64_t>(cfg.smtp.max_message_bytes) * 3 / 2;
    if (*free < needed) {
      report.line(Level::failing, "disk", megabytes(*free) + " free: mail is refused (452 4.3.1)",
                  "free space in " + cfg.server.data_dir);
    } else if (*free < needed * 20) {
      report.line(Level::warning, "disk", megabytes(*free) + " free", "free space soon");
    } else {
      report.line(Level::ok, "disk", megabytes(*free) + " free");
    }
  }

  if (auto queue = store.list_queue()) {
    std::size_t held = 0, deferred = 0;
    const auto now = store::SystemClock::now();
    auto oldest = now;
    for (const auto& e : *queue) {
      const auto state = store::queue_state(e, now);
      held += state == store::QueueState::held;
      deferred += state == store::QueueState::deferred;
      oldest = std::min(oldest, e.created);
    }
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - oldest);
    const auto text =
        std::to_string(queue->size()) + " message(s), " + std::to_string(deferred) + " deferred, " +
        std::to_string(held) + " held" +
        (queue->empty() ? "" : ", oldest " + std::to_string(age.count() / 60) + " min");
    if (!queue->empty() && age > cfg.queue.delay_warning) {
      report.line(Level::warning, "queue", text, "postino queue list; postino trace QUEUE-ID");
    } else {
      report.line(Level::ok, "queue", text);
    }
  }

  if (!skip_dns && domains) {
    DnsLookup lookup(resolver.empty() ? cfg.outbound.dns : resolver,
                     std::chrono::milliseconds(cfg.outbound.dns_timeout_ms));
    for (const auto& domain : *domains) {
      const auto plan = dns_plan(cfg, domain, {});
      const auto checks = check_dns(
          plan, dns_records(plan),
          [&lookup](const std::string& n, const std::string& t) { return lookup.query(n, t); });
      int bad = 0, failed = 0, differs = 0;
      for (const auto& c : checks) {
        bad += c.state == DnsCheck::State::missing || c.state == DnsCheck::State::wrong;
        failed += c.state == DnsCheck::State::failed;
        differs += c.state == DnsCheck::State::differs;
      }
      const auto fix = "postino dns check " + domain;
      if (failed > 0) {
        report.line(Level::failing, "dns",
                    domain + ": " + std::to_string(failed) + " lookup(s) failed",
                    "check outbound.dns; " + fix);
      } else if (bad > 0) {
        report.line(Level::warning, "dns",
                    domain + ": " + std::to_string(bad) + " record(s) missing or wrong", fix);
      } else {
        report.line(
            Level::ok, "dns",
            domain + ": " + std::to_string(checks.size()) + " records" +
                (differs ? " (" + std::to_string(differs) + " differ from the suggestion)" : ""));
      }
    }
  }
  std::cout << (report.failing ? std::to_string(report.failing) + " failing, " : "")
            << report.warnings << " warning(s)\n";
  return report.failing ? 1 : 0;
}

}  // namespace

void add_status_command(CLI::App& app, StoreLocation& where, std::function<int()>& run) {
  static std::string resolver;
  static bool skip_dns = false;
  auto* cmd = app.add_subcommand(
      "status", "Listeners, certificate, store, disk, queue and DNS: ok, warning or failing.");
  cmd->add_option("--dns", resolver, "HOST:PORT of the DNS server (default: outbound.dns)");
  cmd->add_flag("--skip-dns", skip_dns, "Do not look the domains' records up");
  cmd->footer("Example:\n  postino --config /etc/postino/postino.toml status");
  cmd->callback([&run, &where] { run = [&where] { return status(where, resolver, skip_dns); }; });
}

}  // namespace postino::app
