// Administration commands on the mail store: domain, user, alias, quota, fsck.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "app/dns_records.hpp"
#include "config/config.hpp"
#include "http/client_config.hpp"

namespace postino::app {

// Where the store is: --data DIR, or server.data_dir of --config FILE, or ./var/dev.
struct StoreLocation {
  std::string data_dir;
  std::string config_file;
};

// The configuration the admin commands work with: --config FILE, or the defaults with
// server.data_dir ./var/dev; --data DIR overrides the data directory. `error` is set when
// the file has errors.
config::Config location_config(const StoreLocation& where, std::string& error);

// The DNS records a domain needs under a configuration (its host name, DKIM keys,
// listeners and MTA-STS policy); `addresses`: the host's public addresses, if known.
DnsPlan dns_plan(const config::Config& cfg, const std::string& domain,
                 const std::vector<std::string>& addresses);

// The MTA-STS policy the HTTP listener serves under `cfg` (mx defaults to the host name);
// `dns records` derives the published id from the same text, so they cannot disagree.
http::MtaStsPolicy mta_sts_policy(const config::Config& cfg);

// Adds `postino dns records|check`.
void add_dns_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

// Adds `postino import|export maildir|mbox`.
void add_transfer_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

// Adds `postino trace QUEUE-ID`.
void add_trace_command(CLI::App& app, StoreLocation& where, std::function<int()>& run);

// Adds `postino status`.
void add_status_command(CLI::App& app, StoreLocation& where, std::function<int()>& run);

// Adds `postino quickstart`.
void add_quickstart_command(CLI::App& app, std::function<int()>& run);

// Run as root with server.user set, the admin commands become that user before they touch
// the data directory, so that every file there stays the server's. An error text or "".
std::string become_server_user(const config::Config& cfg);

// Adds `postino dkim generate`.
void add_dkim_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

// Adds the store subcommands to `app`; each sets `run` to its action when parsed.
void add_store_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

}  // namespace postino::app
