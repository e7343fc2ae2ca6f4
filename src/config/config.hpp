// The server's configuration: every setting with its default. The key table in keys.cpp
// maps TOML keys onto these fields; docs/CONFIG.md and `postino config example` are
// rendered from that table, so the documentation cannot drift from the code.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/endpoint.hpp"

namespace postino::config {

struct ServerSettings {
  std::string hostname;  // empty: the system's host name
  std::string data_dir = "/var/lib/postino";
  std::string user;             // started as root: become this user once the ports are bound
  std::int64_t io_threads = 0;  // 0: one per core
  std::int64_t worker_threads = 16;
  std::int64_t login_threads = 2;
  std::chrono::seconds shutdown_grace{3};
  std::int64_t memory_keep_bytes = 64 * 1024 * 1024;
  std::chrono::seconds memory_return_interval{60};
};

struct LogSettings {
  std::string level = "info";
  std::string format = "auto";
  std::int64_t buffer_bytes = std::int64_t{1} << 20;
  std::int64_t gather_ms = 5;
};

struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string min_version = "1.2";
  std::chrono::seconds handshake_timeout{30};
};

struct LimitSettings {
  std::int64_t max_connections = 2000;
  std::int64_t max_connections_per_ip = 50;
  std::int64_t max_new_connections_per_minute_per_ip = 120;
  std::vector<std::string> trusted_networks = {"127.0.0.0/8", "::1/128"};
};

struct SmtpSettings {
  std::int64_t max_line_bytes = 2048;
  std::chrono::seconds idle_timeout{300};
  std::int64_t max_errors = 20;
  std::int64_t max_junk_commands = 100;
  std::int64_t recipient_overshoot_limit = 1000;
  std::int64_t max_message_bytes = 50 * 1024 * 1024;
  std::int64_t max_recipients = 1000;
  std::int64_t max_auth_failures = 3;
  std::int64_t max_received_headers = 50;
  std::string bare_lf = "normalize";
  std::int64_t min_data_rate = 500;
  std::int64_t max_messages_per_hour = 500;
};

struct AuthSettings {
  std::int64_t failure_delay_ms = 2000;
  std::int64_t max_failure_delay_ms = 15000;
  std::chrono::seconds failure_memory{600};
  std::int64_t max_failures_per_minute = 300;
};

struct ImapSettings {
  std::int64_t max_line_bytes = 65536;
  std::int64_t max_line_bytes_preauth = 8192;
  std::chrono::seconds idle_timeout{1800};
  std::chrono::seconds preauth_timeout{60};
  std::int64_t max_bad_commands_preauth = 3;
  std::int64_t max_bad_commands = 20;
  std::int64_t max_auth_failures = 3;
  bool allow_plaintext_loopback = false;
  std::int64_t max_append_bytes = 50 * 1024 * 1024;
  std::int64_t view_cache_messages = 1'000'000;
  std::int64_t list_file_messages = 10'000;
};

struct Pop3Settings {
  std::int64_t max_line_bytes = 512;
  std::chrono::seconds idle_timeout{600};
  std::int64_t max_bad_commands = 3;
  bool allow_plaintext_loopback = false;
  std::int64_t max_auth_failures = 3;
  std::int64_t read_ahead_bytes = 2 * 1024 * 1024;
};

struct StoreSettings {
  std::chrono::seconds busy_timeout{5};
  std::int64_t max_batch = 256;
  std::chrono::seconds blob_grace{3600};
  std::chrono::seconds tidy_interval{3600};
  std::int64_t max_mailbox_name_bytes = 255;
  std::int64_t max_mailbox_depth = 16;
  std::int64_t max_indexed_text_bytes = 4 * 1024 * 1024;
  std::int64_t inline_body_bytes = 16 * 1024;
  std::int64_t log_body_bytes = 16 * 1024 * 1024;
  std::int64_t log_segment_bytes = 64 * 1024 * 1024;
  std::int64_t log_compact_percent = 50;
  std::int64_t tidy_bytes_per_second = 16 * 1024 * 1024;
  std::int64_t page_size = 4096;
  std::int64_t wal_checkpoint_bytes = 16 * 1024 * 1024;
  std::int64_t writer_cache_bytes = 16 * 1024 * 1024;
  std::int64_t text_index_batch_bytes = 1024 * 1024;
  std::int64_t text_index_quiet_ms = 200;
  std::int64_t scrub_bytes_per_second = 8 * 1024 * 1024;
  std::chrono::seconds scrub_interval{7 * 86400};
  std::chrono::seconds scrub_start_delay{60};
};

struct MimeSettings {
  std::int64_t max_depth = 100;
  std::int64_t max_parts = 10000;
  std::int64_t max_header_bytes = 10 * 1024 * 1024;
};

struct OutboundSettings {
  std::string dns;  // "HOST:PORT[,…]"; empty: /etc/resolv.conf
  std::int64_t dns_timeout_ms = 5000;
  std::vector<std::string> routes;  // "DOMAIN=HOST:PORT"
  std::string relay_host;           // "HOST:PORT": every other domain goes there
  std::string relay_user;
  std::string relay_password_file;
  std::int64_t port = 25;
  bool require_tls = false;
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{300};
  std::chrono::seconds data_timeout{600};
  std::int64_t max_addresses = 5;
  std::int64_t max_deliveries = 20;
  std::int64_t max_per_domain = 5;
  std::int64_t max_returned_bytes = 50000;
};

struct QueueSettings {
  std::chrono::seconds min_backoff{300};
  std::chrono::seconds max_backoff{3600};
  std::chrono::seconds lifetime{5 * 24 * 3600};
  std::chrono::seconds delay_warning{4 * 3600};
  std::int64_t poll_interval_ms = 1000;
  std::chrono::seconds lease{3600};
};

struct HttpSettings {
  std::int64_t max_header_bytes = 8192;
  std::int64_t max_body_bytes = 65536;
  std::chrono::seconds idle_timeout{30};
  std::string admin_token_file;  // empty: no admin API
};

struct MtaStsSettings {
  std::string mode = "none";
  std::vector<std::string> mx;  // empty: the server's host name
  std::chrono::seconds max_age{604800};
};

struct DkimSettings {
  std::string key_dir;  // empty: <server.data_dir>/dkim
};

struct Config {
  ServerSettings server;
  LogSettings log;
  TlsSettings tls;
  LimitSettings limits;
  SmtpSettings smtp;
  ImapSettings imap;
  Pop3Settings pop3;
  StoreSettings store;
  MimeSettings mime;
  AuthSettings auth;
  OutboundSettings outbound;
  QueueSettings queue;
  DkimSettings dkim;
  HttpSettings http;
  MtaStsSettings mta_sts;
  std::map<Protocol, std::vector<Endpoint>> listen = production_listeners();

  // Standard ports on every IPv4 address (RFC 5321, 6409, 8314, 3501, 1939).
  static std::map<Protocol, std::vector<Endpoint>> production_listeners();
  // The `serve --dev` defaults of DESIGN.md: 127.0.0.1 only, ports 25xx, data in `data_dir`.
  static Config development(const std::string& data_dir);

  // The host name to announce: server.hostname or the system's.
  std::string effective_hostname() const;
  // Where the DKIM keys are: dkim.key_dir, or <data_dir>/dkim.
  std::string effective_dkim_dir() const;
};

}  // namespace postino::config
