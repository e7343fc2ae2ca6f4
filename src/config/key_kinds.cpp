// See key_kinds.hpp.
#include "config/key_kinds.hpp"

#include <functional>

namespace postino::config {

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789ABCDEF";
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out + "\"";
}

namespace key_kinds {

std::string read_bounded(const toml::node& n, std::int64_t min, std::int64_t max, bool power_of_two,
                         const char* expected, std::int64_t& out) {
  auto v = n.value_exact<std::int64_t>();
  if (!v) return expected;
  const bool in_range = *v >= min && *v <= max;
  if (power_of_two && (!in_range || (*v & (*v - 1)) != 0)) {
    return "must be a power of two between " + std::to_string(min) + " and " + std::to_string(max);
  }
  if (!in_range) return "must be between " + std::to_string(min) + " and " + std::to_string(max);
  out = *v;
  return "";
}

std::string show_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += toml_quote(items[i]);
  }
  return out + "]";
}

std::string read_string_list(const toml::node& n, std::vector<std::string>& out,
                             const std::function<std::string(const std::string&)>& check) {
  std::vector<std::string> items;
  if (auto s = n.value_exact<std::string>()) {
    items.push_back(*s);
  } else if (const auto* arr = n.as_array()) {
    for (const auto& el : *arr) {
      auto s = el.value_exact<std::string>();
      if (!s) return "expected a list of strings";
      items.push_back(*s);
    }
  } else {
    return "expected a string or a list of strings";
  }
  for (const auto& item : items) {
    if (auto err = check(item); !err.empty()) return err;
  }
  out = std::move(items);
  return "";
}

Key listener_key(Protocol p, std::string doc) {
  return Key{"listen." + std::string(to_string(p)), "list of \"ADDR:PORT\"", std::move(doc),
             [p](Config& c, const toml::node& n) -> std::string {
               std::vector<std::string> items;
               auto err = read_string_list(n, items, [](const std::string& s) -> std::string {
                 if (parse_endpoint(s)) return "";
                 return "\"" + s + "\" is not ADDR:PORT (IPv6 as [ADDR]:PORT)";
               });
               if (!err.empty()) return err;
               auto& eps = c.listen[p];
               eps.clear();
               for (const auto& s : items) eps.push_back(*parse_endpoint(s));
               return "";
             },
             [p](const Config& c) {
               std::vector<std::string> items;
               if (auto it = c.listen.find(p); it != c.listen.end()) {
                 for (const auto& e : it->second) items.push_back(e.str());
               }
               return show_list(items);
             }};
}

}  // namespace key_kinds
}  // namespace postino::config
