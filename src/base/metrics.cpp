// See metrics.hpp. The registry lives for the whole process (never destroyed, so series
// kept in statics stay valid during exit).
#include "base/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <variant>

namespace postino::base::metrics {
namespace {

struct Registry {
  std::mutex mutex;
  // Declaration order is rendering order.
  std::vector<std::variant<Family<Counter>*, Family<Gauge>*, Family<Histogram>*>> families;
  std::map<std::string, std::size_t> by_name;
};

Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

template <class Series>
Family<Series>& declare(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names,
                        std::function<std::unique_ptr<Series>()> make) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (auto it = r.by_name.find(name); it != r.by_name.end()) {
    return *std::get<Family<Series>*>(r.families[it->second]);
  }
  auto* family = new Family<Series>(name, help, std::move(label_names), std::move(make));
  r.by_name[name] = r.families.size();
  r.families.emplace_back(family);
  return *family;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string label_text(const std::vector<std::string>& names, const Labels& values,
                       const std::string& extra = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += (out.empty() ? "" : ",") + names[i] + "=\"" + escape_label(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds->size() + 1]) {
  for (std::size_t i = 0; i <= bounds_->size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds_->size() && seconds > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e6),
                        std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

std::string Histogram::bound_text(std::size_t i) const {
  return number((*bounds_)[i]);
}

const std::vector<double>& duration_buckets() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return b;
}

Family<Counter>& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names) {
  return declare<Counter>(name, help, std::move(label_names),
                          [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names) {
  return declare<Gauge>(name, help, std::move(label_names),
                        [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             const std::vector<double>& bounds) {
  // The bounds live as long as the family's factory, that is for the whole process; a
  // second declaration of the same name drops its copy.
  auto kept = std::make_shared<const std::vector<double>>(bounds);
  return declare<Histogram>(name, help, std::move(label_names),
                            [kept] { return std::make_unique<Histogram>(kept.get()); });
}

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render(const std::vector<Computed>& computed) {
  std::string out;
  auto& r = registry();
  std::vector<std::variant<Family<Counter>*, Family<Gauge>*, Family<Histogram>*>> families;
  {
    std::lock_guard lock(r.mutex);
    families = r.families;
  }
  for (const auto& entry : families) {
    if (auto* const* c = std::get_if<Family<Counter>*>(&entry)) {
      const auto& f = **c;
      header(out, f.name(), f.help(), "counter");
      f.each([&](const Labels& labels, const Counter& s) {
        out +=
            f.name() + label_text(f.label_names(), labels) + " " + std::to_string(s.value()) + "\n";
      });
    } else if (auto* const* g = std::get_if<Family<Gauge>*>(&entry)) {
      const auto& f = **g;
      header(out, f.name(), f.help(), "gauge");
      f.each([&](const Labels& labels, const Gauge& s) {
        out +=
            f.name() + label_text(f.label_names(), labels) + " " + std::to_string(s.value()) + "\n";
      });
    } else {
      const auto& f = *std::get<Family<Histogram>*>(entry);
      header(out, f.name(), f.help(), "histogram");
      f.each([&](const Labels& labels, const Histogram& h) {
        const auto s = h.snapshot();
        for (std::size_t i = 0; i < s.cumulative.size(); ++i) {
          const bool inf = i + 1 == s.cumulative.size();
          const auto le = "le=\"" + (inf ? std::string("+Inf") : h.bound_text(i)) + "\"";
          out += f.name() + "_bucket" + label_text(f.label_names(), labels, le) + " " +
                 std::to_string(s.cumulative[i]) + "\n";
        }
        out += f.name() + "_sum" + label_text(f.label_names(), labels) + " " + number(s.sum) + "\n";
        out += f.name() + "_count" + label_text(f.label_names(), labels) + " " +
               std::to_string(s.count) + "\n";
      });
    }
  }
  for (const auto& c : computed) {
    header(out, c.name, c.help, c.type.c_str());
    for (const auto& s : c.samples) {
      out += c.name + label_text(c.label_names, s.labels) + " " + number(s.value) + "\n";
    }
  }
  return out;
}

}  // namespace postino::base::metrics
