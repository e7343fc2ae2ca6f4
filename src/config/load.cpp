// TOML loading with positioned errors; see load.hpp.
#include "config/load.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

#include "config/keys.hpp"

namespace postino::config {
namespace {

bool is_section(const std::string& name) {
  for (const auto& k : keys()) {
    if (k.name.compare(0, name.size() + 1, name + ".") == 0) return true;
  }
  return false;
}

void walk(const toml::table& table, const std::string& prefix, Config& config,
          std::string_view source, std::vector<ConfigError>& errors) {
  for (const auto& [name, node] : table) {
    const std::string key =
        prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    const auto& where = node.source().begin;
    if (const Key* k = find_key(key)) {
      if (auto err = k->set(config, node); !err.empty()) {
        errors.push_back({std::string(source), where.line, where.column, key + ": " + err});
      }
      continue;
    }
    if (const auto* sub = node.as_table(); sub && prefix.empty() && is_section(key)) {
      walk(*sub, key, config, source, errors);
      continue;
    }
    // An unknown key is reported where the key is written, not its value.
    const auto& key_at = name.source().begin;
    errors.push_back(
        {std::string(source), key_at.line ? key_at.line : where.line,
         key_at.line ? key_at.column : where.column,
         std::string(node.is_table() ? "unknown section '" : "unknown key '") + key + "'"});
  }
}

}  // namespace

std::string ConfigError::str() const {
  return source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::vector<ConfigError> apply_toml(Config& config, std::string_view text,
                                    std::string_view source_name) {
  std::vector<ConfigError> errors;
  toml::table doc;
  try {
    doc = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    errors.push_back(
        {std::string(source_name), where.line, where.column, std::string(e.description())});
    return errors;
  }
  Config updated = config;
  walk(doc, "", updated, source_name, errors);
  // toml++ keeps a table's keys sorted by name; report in document order.
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (errors.empty()) config = std::move(updated);
  return errors;
}

std::vector<ConfigError> apply_file(Config& config, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {{path.string(), 0, 0, "cannot read the file"}};
  std::ostringstream text;
  text << in.rdbuf();
  return apply_toml(config, text.str(), path.string());
}

std::vector<ConfigError> validate(const Config& config, std::string_view source_name) {
  std::vector<ConfigError> errors;
  bool needs_tls = false;
  for (const auto& [protocol, endpoints] : config.listen) {
    needs_tls = needs_tls || !endpoints.empty();
  }
  // Every listener offers TLS (STARTTLS or implicit), so a certificate is always needed.
  if (needs_tls && (config.tls.cert_file.empty() || config.tls.key_file.empty())) {
    errors.push_back({std::string(source_name), 0, 0,
                      "tls.cert_file and tls.key_file are required: every listener offers TLS"});
  }
  if (config.server.data_dir.empty()) {
    errors.push_back({std::string(source_name), 0, 0, "server.data_dir must not be empty"});
  }
  return errors;
}

}  // namespace postino::config
