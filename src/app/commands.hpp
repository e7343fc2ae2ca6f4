// What each subcommand needs from the command line, and the functions that run them.
#pragma once

#include <string>
#include <vector>

namespace postino::app {

struct ServeOptions {
  bool dev = false;
  std::string data_dir;             // --data; empty: ./var/dev in dev mode
  std::string config_file;          // --config
  std::vector<std::string> listen;  // --listen PROTOCOL=ADDR:PORT | PROTOCOL=off
  std::vector<std::string> routes;  // --route DOMAIN=HOST:PORT (added to outbound.routes)
  std::string dns;                  // --dns HOST:PORT (replaces outbound.dns)
};

int serve(const ServeOptions& options);
int config_test(const std::string& config_file);
int config_example();
int config_docs();

}  // namespace postino::app
