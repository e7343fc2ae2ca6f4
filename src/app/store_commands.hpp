// Administration commands on the mail store: domain, user, alias, quota, fsck.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace postino::app {

// Where the store is: --data DIR, or server.data_dir of --config FILE, or ./var/dev.
struct StoreLocation {
  std::string data_dir;
  std::string config_file;
};

// Adds the store subcommands to `app`; each sets `run` to its action when parsed.
void add_store_commands(CLI::App& app, StoreLocation& where, std::function<int()>& run);

}  // namespace postino::app
