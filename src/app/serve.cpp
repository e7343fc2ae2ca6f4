// `postino serve`: configuration, listeners and the development banner.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "app/commands.hpp"
#include "app/dev_setup.hpp"
#include "app/privileges.hpp"
#include "app/store_commands.hpp"
#include "app/store_options.hpp"
#include "auth/authenticator.hpp"
#include "base/durable_file.hpp"
#include "base/log.hpp"
#include "base/memory.hpp"
#include "config/load.hpp"
#include "http/session_factory.hpp"
#include "imap/session_factory.hpp"
#include "net/server.hpp"
#include "outbound/scheduler.hpp"
#include "pop3/session_factory.hpp"
#include "smtp/session_factory.hpp"
#include "store/scrubber.hpp"
#include "store/text_indexer.hpp"
#include "store/tidier.hpp"

namespace postino::app {
namespace {

namespace fs = std::filesystem;

// Applies --listen PROTOCOL=ADDR:PORT|off; the first one for a protocol replaces its
// configured listeners. Returns an error text or "".
std::string apply_listen_overrides(config::Config& cfg, const std::vector<std::string>& specs) {
  std::map<config::Protocol, bool> replaced;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    const auto name = spec.substr(0, eq);
    if (eq == std::string::npos) return "--listen " + spec + ": expected PROTOCOL=ADDR:PORT";
    auto protocol = config::parse_protocol(name);
    if (!protocol) return "--listen " + spec + ": unknown protocol '" + name + "'";
    auto& endpoints = cfg.listen[*protocol];
    if (!replaced[*protocol]) endpoints.clear();
    replaced[*protocol] = true;
    const auto value = spec.substr(eq + 1);
    if (value == "off") continue;
    auto endpoint = config::parse_endpoint(value);
    if (!endpoint) return "--listen " + spec + ": expected ADDR:PORT (IPv6 as [ADDR]:PORT)";
    endpoints.push_back(*endpoint);
  }
  return "";
}

// What sessions use besides their settings.
struct Services {
  store::Store* store;
  store::ChangeNotifier* notifier;
  auth::Authenticator* authenticator;
  smtp::SendingLimiter* sending_limiter;
  outbound::Scheduler* scheduler;
  bool is_dev;
  // What autoconfig and autodiscover tell clients, filled in once the ports are bound.
  std::shared_ptr<http::MailServices> mail_services;
  std::string admin_token;
};

// The bound listeners a mail client may use, implicit TLS first (RFC 8314 §3).
void describe_services(http::MailServices& out, const std::string& hostname,
                       const std::vector<net::BoundListener>& bound) {
  using Kind = http::MailService::Kind;
  out.hostname = hostname;
  const std::pair<const char*, Kind> order[] = {
      {"imaps", Kind::imap}, {"imap", Kind::imap},        {"pop3s", Kind::pop3},
      {"pop3", Kind::pop3},  {"submissions", Kind::smtp}, {"submission", Kind::smtp}};
  for (const auto& [protocol, kind] : order) {
    for (const auto& b : bound) {
      if (b.protocol == protocol) out.services.push_back({kind, b.port, b.implicit_tls});
    }
  }
}

net::ServerOptions server_options(const config::Config& cfg, const Services& services) {
  net::ServerOptions o;
  o.io_threads = static_cast<std::size_t>(cfg.server.io_threads);
  o.worker_threads = static_cast<std::size_t>(cfg.server.worker_threads);
  o.login_threads = static_cast<std::size_t>(cfg.server.login_threads);
  o.max_connections = static_cast<std::size_t>(cfg.limits.max_connections);
  o.max_connections_per_ip = static_cast<std::size_t>(cfg.limits.max_connections_per_ip);
  o.max_new_connections_per_minute_per_ip =
      static_cast<std::size_t>(cfg.limits.max_new_connections_per_minute_per_ip);
  std::vector<config::Network> trusted;
  for (const auto& n : cfg.limits.trusted_networks) trusted.push_back(*config::parse_network(n));
  o.is_trusted = [trusted](const std::string& address) {
    for (const auto& n : trusted) {
      if (n.contains(address)) return true;
    }
    return false;
  };
  o.handshake_timeout = cfg.tls.handshake_timeout;
  o.shutdown_grace = cfg.server.shutdown_grace;
  o.cert_file = cfg.tls.cert_file;
  o.key_file = cfg.tls.key_file;
  o.tls_min_version = cfg.tls.min_version;

  const auto hostname = cfg.effective_hostname();
  smtp::SessionSettings smtp_settings;
  smtp_settings.hostname = hostname;
  smtp_settings.max_line_bytes = static_cast<std::size_t>(cfg.smtp.max_line_bytes);
  smtp_settings.idle_timeout = cfg.smtp.idle_timeout;
  smtp_settings.max_errors = cfg.smtp.max_errors;
  smtp_settings.max_junk_commands = cfg.smtp.max_junk_commands;
  smtp_settings.recipient_overshoot_limit =
      static_cast<std::size_t>(cfg.smtp.recipient_overshoot_limit);
  smtp_settings.max_message_bytes = static_cast<std::uint64_t>(cfg.smtp.max_message_bytes);
  smtp_settings.max_recipients = static_cast<std::size_t>(cfg.smtp.max_recipients);
  smtp_settings.max_auth_failures = cfg.smtp.max_auth_failures;
  smtp_settings.max_received_headers = static_cast<std::size_t>(cfg.smtp.max_received_headers);
  smtp_settings.bare_lf =
      cfg.smtp.bare_lf == "reject" ? smtp::BareLfPolicy::reject : smtp::BareLfPolicy::normalize;
  smtp_settings.is_dev = services.is_dev;
  smtp_settings.min_data_rate = static_cast<std::uint64_t>(cfg.smtp.min_data_rate);
  smtp_settings.sending_limiter = services.sending_limiter;
  smtp_settings.store = services.store;
  smtp_settings.authenticator = services.authenticator;
  smtp_settings.on_queued = [scheduler = services.scheduler] { scheduler->wake(); };
  auto smtp_inbound = std::make_shared<smtp::SessionFactory>(smtp_settings);
  smtp_settings.is_submission = true;
  auto smtp_submission = std::make_shared<smtp::SessionFactory>(smtp_settings);
  imap::SessionSettings imap_settings;
  imap_settings.max_line_bytes = static_cast<std::size_t>(cfg.imap.max_line_bytes);
  imap_settings.max_line_bytes_preauth = static_cast<std::size_t>(cfg.imap.max_line_bytes_preauth);
  imap_settings.idle_timeout = cfg.imap.idle_timeout;
  imap_settings.preauth_timeout = cfg.imap.preauth_timeout;
  imap_settings.max_bad_commands_preauth = cfg.imap.max_bad_commands_preauth;
  imap_settings.max_bad_commands = cfg.imap.max_bad_commands;
  imap_settings.max_auth_failures = cfg.imap.max_auth_failures;
  imap_settings.allow_plaintext_loopback = cfg.imap.allow_plaintext_loopback;
  imap_settings.max_append_bytes = static_cast<std::size_t>(cfg.imap.max_append_bytes);
  imap_settings.store = services.store;
  imap_settings.authenticator = services.authenticator;
  imap_settings.notifier = services.notifier;
  imap_settings.views = std::make_shared<imap::MailboxViews>(
      static_cast<std::size_t>(cfg.imap.view_cache_messages),
      imap::SavedListFiles{fs::path(cfg.server.data_dir) / "lists",
                           static_cast<std::size_t>(cfg.imap.list_file_messages)});
  auto imap = std::make_shared<imap::SessionFactory>(imap_settings);
  pop3::SessionSettings pop3_settings;
  pop3_settings.max_line_bytes = static_cast<std::size_t>(cfg.pop3.max_line_bytes);
  pop3_settings.idle_timeout = cfg.pop3.idle_timeout;
  pop3_settings.max_bad_commands = cfg.pop3.max_bad_commands;
  pop3_settings.allow_plaintext_loopback = cfg.pop3.allow_plaintext_loopback;
  pop3_settings.max_auth_failures = cfg.pop3.max_auth_failures;
  pop3_settings.read_ahead_bytes = static_cast<std::size_t>(cfg.pop3.read_ahead_bytes);
  pop3_settings.store = services.store;
  pop3_settings.authenticator = services.authenticator;
  auto pop3 = std::make_shared<pop3::SessionFactory>(pop3_settings);
  http::SessionSettings http_settings;
  http_settings.max_header_bytes = static_cast<std::size_t>(cfg.http.max_header_bytes);
  http_settings.max_body_bytes = static_cast<std::size_t>(cfg.http.max_body_bytes);
  http_settings.idle_timeout = cfg.http.idle_timeout;
  http_settings.services = services.mail_services;
  http_settings.mta_sts = mta_sts_policy(cfg);
  http_settings.store = services.store;
  http_settings.admin_token = services.admin_token;
  http_settings.queue_changed = [scheduler = services.scheduler] { scheduler->wake(); };
  auto http = std::make_shared<http::SessionFactory>(http_settings);

  for (auto protocol : config::all_protocols) {
    auto it = cfg.listen.find(protocol);
    if (it == cfg.listen.end()) continue;
    std::shared_ptr<net::SessionFactory> factory;
    switch (protocol) {
      case config::Protocol::smtp:
        factory = smtp_inbound;
        break;
      case config::Protocol::submission:
      case config::Protocol::submissions:
        factory = smtp_submission;
        break;
      case config::Protocol::imap:
      case config::Protocol::imaps:
        factory = imap;
        break;
      case config::Protocol::pop3:
      case config::Protocol::pop3s:
        factory = pop3;
        break;
      case config::Protocol::http:
      case config::Protocol::https:
        factory = http;
        break;
    }
    for (const auto& e : it->second) {
      o.listeners.push_back({std::string(config::to_string(protocol)), e.address, e.port,
                             config::is_implicit_tls(protocol), factory});
    }
  }
  return o;
}

outbound::SchedulerSettings scheduler_settings(const config::Config& cfg, bool is_dev) {
  outbound::SchedulerSettings s;
  const auto hostname = cfg.effective_hostname();
  auto& d = s.delivery;
  d.helo_name = hostname;
  d.port = static_cast<std::uint16_t>(cfg.outbound.port);
  for (const auto& text : cfg.outbound.routes) {
    const auto route = config::parse_route(text);  // validated with the configuration
    d.routes[route->domain] = {route->host, route->port};
  }
  if (!cfg.outbound.relay_host.empty()) {
    const auto relay = config::parse_host_port(cfg.outbound.relay_host);  // validated
    d.relay = outbound::RouteTarget{relay->host, relay->port};
    d.relay_user = cfg.outbound.relay_user;
  }
  d.our_names = {hostname};
  d.connect_timeout = cfg.outbound.connect_timeout;
  d.command_timeout = cfg.outbound.command_timeout;
  d.data_timeout = cfg.outbound.data_timeout;
  d.max_addresses = static_cast<std::size_t>(cfg.outbound.max_addresses);
  d.require_tls = cfg.outbound.require_tls;
  d.loopback_only = is_dev;
  s.resolver.servers = cfg.outbound.dns;
  s.resolver.timeout = std::chrono::milliseconds(cfg.outbound.dns_timeout_ms);
  s.report.hostname = hostname;
  s.report.max_returned_bytes = static_cast<std::size_t>(cfg.outbound.max_returned_bytes);
  s.retry.min_backoff = cfg.queue.min_backoff;
  s.retry.max_backoff = cfg.queue.max_backoff;
  s.retry.lifetime = cfg.queue.lifetime;
  s.retry.delay_warning = cfg.queue.delay_warning;
  s.node = hostname;
  s.dkim_dir = cfg.effective_dkim_dir();
  s.poll_interval = std::chrono::milliseconds(cfg.queue.poll_interval_ms);
  s.lease = cfg.queue.lease;
  s.max_deliveries = static_cast<std::size_t>(cfg.outbound.max_deliveries);
  s.max_per_domain = static_cast<std::size_t>(cfg.outbound.max_per_domain);
  return s;
}

// A random secret kept in the data directory (0600), stable across restarts.
std::optional<std::string> read_or_create_secret(const fs::path& path) {
  if (std::ifstream in(path); in) {
    std::string secret;
    if (std::getline(in, secret) && secret.size() >= 32) return secret;
  }
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string raw(32, '\0');
  if (!urandom.read(raw.data(), static_cast<std::streamsize>(raw.size()))) return std::nullopt;
  static constexpr char hex[] = "0123456789abcdef";
  std::string secret;
  for (unsigned char c : raw) {
    secret.push_back(hex[c >> 4]);
    secret.push_back(hex[c & 15]);
  }
  if (!base::write_file_durably(path, secret + "\n", 0600).empty()) return std::nullopt;
  return secret;
}

std::string endpoint_text(const net::BoundListener& b) {
  return b.address.find(':') != std::string::npos ? "[" + b.address + "]:" + std::to_string(b.port)
                                                  : b.address + ":" + std::to_string(b.port);
}

const net::BoundListener* find_bound(const std::vector<net::BoundListener>& bound,
                                     std::string_view protocol) {
  for (const auto& b : bound) {
    if (b.protocol == protocol) return &b;
  }
  return nullptr;
}

void print_dev_banner(const config::Config& cfg, const DevSetup& dev,
                      const std::vector<net::BoundListener>& bound) {
  const auto dir = fs::absolute(cfg.server.data_dir).lexically_normal().string();
  std::cout << "Postino " << POSTINO_VERSION << " development server\n"
            << "  data dir     " << dir << "\n"
            << "  hostname     " << cfg.effective_hostname() << "\n"
            << "  listeners\n";
  for (const auto& b : bound) {
    std::string name = b.protocol;
    name.resize(12, ' ');
    std::string where = endpoint_text(b);
    where.resize(22, ' ');
    std::cout << "    " << name << where
              << (b.implicit_tls         ? "implicit TLS"
                  : b.protocol == "http" ? "no TLS"
                                         : "STARTTLS")
              << "\n";
  }
  std::cout << "  demo account " << dev.demo_address << "  password " << dev.demo_password << "\n"
            << "               (for SMTP submission, IMAP and POP3; see docs/FEATURES.md)\n"
            << "  certificate  " << fs::absolute(cfg.tls.cert_file).lexically_normal().string()
            << (dev.certificate_created ? "  (self-signed, created now)" : "  (self-signed)")
            << "\n"
            << "  SHA-256      " << dev.certificate_fingerprint << "\n"
            << "Try it:\n";
  if (const auto* b = find_bound(bound, "smtp")) {
    std::cout << "  swaks --server " << endpoint_text(*b) << " --to " << dev.demo_address << "\n";
  }
  if (const auto* b = find_bound(bound, "submission")) {
    std::cout << "  swaks --server " << endpoint_text(*b) << " --tls --auth-user "
              << dev.demo_address << " --auth-password " << dev.demo_password << " --to "
              << dev.demo_address << "\n";
  }
  if (const auto* b = find_bound(bound, "imaps")) {
    std::cout << "  openssl s_client -quiet -connect " << endpoint_text(*b)
              << "     (then type: a CAPABILITY)\n";
  }
  if (const auto* b = find_bound(bound, "pop3")) {
    std::cout << "  curl --ssl-reqd --cacert "
              << fs::absolute(cfg.tls.cert_file).lexically_normal().string() << " -u "
              << dev.demo_address << ":" << dev.demo_password << " pop3://localhost:" << b->port
              << "/1\n";
  }
  if (const auto* b = find_bound(bound, "http")) {
    std::cout << "  curl http://" << endpoint_text(*b)
              << "/mail/config-v1.1.xml?emailaddress=" << dev.demo_address << "\n";
  }
  std::cout << "Reset: stop the server (Ctrl-C) and delete " << dir << "\n"
            << "Ready." << std::endl;
}

}  // namespace

int serve(const ServeOptions& options) {
  if (!options.dev && options.config_file.empty()) {
    std::cerr << "postino serve: give --config FILE, or --dev for a development server\n";
    return 2;
  }
  config::Config cfg =
      options.dev
          ? config::Config::development(options.data_dir.empty() ? "var/dev" : options.data_dir)
          : config::Config{};
  std::vector<config::ConfigError> errors;
  if (!options.config_file.empty()) errors = config::apply_file(cfg, options.config_file);
  if (!options.dev && !options.data_dir.empty()) cfg.server.data_dir = options.data_dir;
  if (errors.empty()) {
    if (auto err = apply_listen_overrides(cfg, options.listen); !err.empty()) {
      errors.push_back({"command line", 0, 0, err});
    }
  }
  if (errors.empty()) {
    for (const auto& route : options.routes) {
      if (!config::parse_route(route)) {
        errors.push_back(
            {"command line", 0, 0, "--route " + route + ": expected DOMAIN=HOST:PORT"});
      }
      cfg.outbound.routes.push_back(route);
    }
    if (!options.dns.empty()) cfg.outbound.dns = options.dns;
  }
  if (errors.empty()) errors = config::validate(cfg, options.config_file);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << e.str() << "\n";
    return 2;
  }

  base::log::Level level = base::log::Level::info;
  base::log::Format format = base::log::Format::automatic;
  base::log::parse_level(cfg.log.level, level);
  base::log::parse_format(cfg.log.format, format);
  base::log::init(level, format,
                  {static_cast<std::size_t>(cfg.log.buffer_bytes),
                   std::chrono::milliseconds(cfg.log.gather_ms)});
  std::signal(SIGPIPE, SIG_IGN);
  if (!base::keep_freed_memory(static_cast<std::size_t>(cfg.server.memory_keep_bytes))) {
    base::log::debug("", "memory_keep_unavailable", {{"key", "server.memory_keep_bytes"}});
  }

  std::string privilege_error;
  const auto privileges = Privileges::resolve(cfg.server.user, privilege_error);
  if (privilege_error.empty()) privilege_error = privileges.prepare_data_dir(cfg.server.data_dir);
  // Read as root: the password file may be readable by root alone.
  std::string relay_password;
  if (privilege_error.empty() && !cfg.outbound.relay_password_file.empty()) {
    std::ifstream in(cfg.outbound.relay_password_file);
    if (!in || !std::getline(in, relay_password)) {
      privilege_error =
          "cannot read outbound.relay_password_file " + cfg.outbound.relay_password_file;
    }
  }
  std::string admin_token;
  if (privilege_error.empty() && !cfg.http.admin_token_file.empty()) {
    std::ifstream in(cfg.http.admin_token_file);
    if (!in || !std::getline(in, admin_token) || admin_token.size() < 32) {
      privilege_error = "http.admin_token_file " + cfg.http.admin_token_file +
                        ": cannot read a token of 32 characters or more from it";
    }
  }
  // Everything in the data directory is created by server.user from here on.
  if (privilege_error.empty()) privilege_error = privileges.act_as_user();
  if (!privilege_error.empty()) {
    std::cerr << "postino serve: " << privilege_error << "\n";
    return 1;
  }

  DevSetup dev;
  if (options.dev) {
    dev = prepare_dev(cfg);
    if (!dev.error.empty()) {
      std::cerr << "postino serve: " << dev.error << "\n";
      return 1;
    }
  }
  store::LocalNotifier notifier;  // outlives the store and every session
  auto sqlite_options = store_options(cfg);
  sqlite_options.notifier = &notifier;
  sqlite_options.tidy_at_open = true;  // the commands leave it to the server
  auto opened = store::open_sqlite_store(sqlite_options);
  if (!opened) {
    std::cerr << "postino serve: cannot open the store in " << cfg.server.data_dir << ": "
              << opened.error().detail << "\n";
    return 1;
  }
  std::unique_ptr<store::Store> mail_store = std::move(*opened);
  store::TextIndexer text_indexer(*mail_store,
                                  static_cast<std::size_t>(cfg.store.text_index_batch_bytes));
  if (options.dev) {
    if (auto err = ensure_demo_account(*mail_store, dev); !err.empty()) {
      std::cerr << "postino serve: " << err << "\n";
      return 1;
    }
  }

  auth::FailureThrottle throttle({std::chrono::milliseconds(cfg.auth.failure_delay_ms),
                                  std::chrono::milliseconds(cfg.auth.max_failure_delay_ms),
                                  cfg.auth.failure_memory, 100000,
                                  static_cast<std::size_t>(cfg.auth.max_failures_per_minute)});
  auto secret = read_or_create_secret(fs::path(cfg.server.data_dir) / "auth-secret");
  if (!secret) {
    std::cerr << "postino serve: cannot read or create " << cfg.server.data_dir << "/auth-secret\n";
    return 1;
  }
  auth::Authenticator authenticator(*mail_store, throttle, *secret);
  smtp::SendingLimiter sending_limiter(static_cast<std::size_t>(cfg.smtp.max_messages_per_hour));
  auto outbound_settings = scheduler_settings(cfg, options.dev);
  outbound_settings.delivery.relay_password = relay_password;
  outbound::Scheduler scheduler(*mail_store, std::move(outbound_settings));
  auto mail_services = std::make_shared<http::MailServices>();
  net::Server server(
      server_options(cfg, {mail_store.get(), &notifier, &authenticator, &sending_limiter,
                           &scheduler, options.dev, mail_services, admin_token}));
  // Ports below 1024 and a key readable by root alone need root; nothing after does.
  auto err = privileges.regain();
  if (err.empty()) err = server.start();
  if (err.empty()) err = privileges.drop();
  if (!err.empty()) {
    std::cerr << "postino serve: " << err << "\n";
    return 1;
  }
  // Started once root is given up for good: what they write (quarantine/, the segments
  // a compaction appends to) is the user's (between regain() and drop() it would be root's).
  store::Scrubber scrubber(*mail_store,
                           static_cast<std::uint64_t>(cfg.store.scrub_bytes_per_second),
                           cfg.store.scrub_interval, cfg.store.scrub_start_delay);
  store::Tidier tidier(*mail_store, cfg.store.tidy_interval,
                       static_cast<std::uint64_t>(cfg.store.tidy_bytes_per_second));
  describe_services(*mail_services, cfg.effective_hostname(), server.bound());
  if (auto err = scheduler.start(); !err.empty()) {
    std::cerr << "postino serve: " << err << "\n";
    return 1;
  }
  if (options.dev) {
    print_dev_banner(cfg, dev, server.bound());
  }
  base::log::info("", "ready",
                  {{"version", POSTINO_VERSION},
                   {"hostname", cfg.effective_hostname()},
                   {"data_dir", cfg.server.data_dir},
                   {"uid", std::to_string(::getuid())}});
  base::FreedMemoryReturner memory_returner(cfg.server.memory_return_interval);
  const int status = server.run();
  scheduler.stop();
  return status;
}

}  // namespace postino::app
