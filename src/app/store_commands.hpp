// Administration commands on the mail store: domain, user, alias, quota, fsck.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "config/config.hpp"

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

// Adds `postino dkim generate`.
void add_dkim_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

// Adds the store subcommands to `app`; each sets `run` to its action when parsed.
void add_store_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

}  // namespace postino::app
