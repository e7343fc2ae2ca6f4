// The kinds of configuration key (integer, power of two, seconds, boolean, string, a
// listener's addresses): how a value of each is read from TOML, checked and shown. The
// table of keys (keys.cpp) is made of them. Internal to config/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/keys.hpp"

namespace postino::config::key_kinds {

// Reads the integer `n` holds into `out` when it lies between min and max (and, with
// `power_of_two`, is one); else returns the error message (`expected` when it is no
// integer at all).
std::string read_bounded(const toml::node& n, std::int64_t min, std::int64_t max, bool power_of_two,
                         const char* expected, std::int64_t& out);

template <class Get>
Key integer_key(std::string name, std::string doc, Get get, std::int64_t min, std::int64_t max) {
  return Key{std::move(name), "integer", std::move(doc),
             [get, min, max](Config& c, const toml::node& n) -> std::string {
               std::int64_t v = 0;
               auto error = read_bounded(n, min, max, false, "expected an integer", v);
               if (error.empty()) get(c) = v;
               return error;
             },
             [get](const Config& c) { return std::to_string(get(c)); }};
}

// An integer that must be a power of two between min and max.
template <class Get>
Key power_of_two_key(std::string name, std::string doc, Get get, std::int64_t min,
                     std::int64_t max) {
  Key key = integer_key(std::move(name), std::move(doc), get, min, max);
  key.type = "power of two";
  key.set = [get, min, max](Config& c, const toml::node& n) -> std::string {
    std::int64_t v = 0;
    auto error = read_bounded(n, min, max, true, "expected an integer", v);
    if (error.empty()) get(c) = v;
    return error;
  };
  return key;
}

template <class Get>
Key seconds_key(std::string name, std::string doc, Get get, std::int64_t min, std::int64_t max) {
  return Key{std::move(name), "seconds", std::move(doc),
             [get, min, max](Config& c, const toml::node& n) -> std::string {
               std::int64_t v = 0;
               auto error =
                   read_bounded(n, min, max, false, "expected a whole number of seconds", v);
               if (error.empty()) get(c) = std::chrono::seconds(v);
               return error;
             },
             [get](const Config& c) { return std::to_string(get(c).count()); }};
}

template <class Get>
Key bool_key(std::string name, std::string doc, Get get) {
  return Key{std::move(name), "boolean", std::move(doc),
             [get](Config& c, const toml::node& n) -> std::string {
               auto v = n.value_exact<bool>();
               if (!v) return "expected true or false";
               get(c) = *v;
               return "";
             },
             [get](const Config& c) { return std::string(get(c) ? "true" : "false"); }};
}

template <class Get>
Key string_key(std::string name, std::string doc, Get get, std::vector<std::string> choices = {}) {
  std::string type = "string";
  if (!choices.empty()) {
    type = "one of";
    for (const auto& ch : choices) type += " `" + ch + "`";
  }
  return Key{
      std::move(name), std::move(type), std::move(doc),
      [get, choices](Config& c, const toml::node& n) -> std::string {
        auto v = n.value_exact<std::string>();
        if (!v) return "expected a string";
        if (!choices.empty() && std::find(choices.begin(), choices.end(), *v) == choices.end()) {
          std::string msg = "must be one of";
          for (const auto& ch : choices) msg += " \"" + ch + "\"";
          return msg;
        }
        get(c) = *v;
        return "";
      },
      [get](const Config& c) { return toml_quote(get(c)); }};
}

// A list of strings as a TOML array.
std::string show_list(const std::vector<std::string>& items);
// Reads a string or an array of strings, checking each element with `check`; returns an
// error message, or "" with `out` set.
std::string read_string_list(const toml::node& n, std::vector<std::string>& out,
                             const std::function<std::string(const std::string&)>& check);

// The addresses a protocol listens on (listen.<protocol>): "ADDR:PORT" or a list of them.
Key listener_key(Protocol p, std::string doc);

}  // namespace postino::config::key_kinds
