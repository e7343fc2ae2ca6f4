// `postino config test|example|docs`.
#include <filesystem>
#include <iostream>

#include "app/commands.hpp"
#include "config/load.hpp"
#include "config/render.hpp"

namespace postino::app {

int config_test(const std::string& config_file) {
  config::Config cfg;
  auto errors = config::apply_file(cfg, config_file);
  if (errors.empty()) errors = config::validate(cfg, config_file);
  for (const auto* path : {&cfg.tls.cert_file, &cfg.tls.key_file}) {
    if (errors.empty() && !path->empty() && !std::filesystem::exists(*path)) {
      errors.push_back({config_file, 0, 0, "no such file: " + *path});
    }
  }
  for (const auto& e : errors) std::cerr << e.str() << "\n";
  if (!errors.empty()) {
    std::cerr << config_file << ": " << errors.size() << (errors.size() == 1 ? " error" : " errors")
              << "\n";
    return 1;
  }
  std::cout << config_file << ": ok\n";
  return 0;
}

int config_example() {
  std::cout << config::render_example();
  return 0;
}

int config_docs() {
  std::cout << config::render_markdown();
  return 0;
}

}  // namespace postino::app
