// Process-wide metrics in the Prometheus text exposition format (version 0.0.4), served
// by the HTTP listener at /metrics. Written by hand: the format is a few lines of text,
// and prometheus-cpp is not packaged in Debian 12.
//
// A family is declared once (usually as a function-local static beside the code that
// counts) and a labelled series is looked up once and kept: incrementing is one atomic
// add, never a lock.
//
//   static auto& replies = base::metrics::counter("postino_smtp_replies_total",
//                                                 "SMTP replies by code.", {"code"});
//   replies.with({"250"}).add();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace postino::base::metrics {

using Labels = std::vector<std::string>;  // values, in the order of the family's names

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Observations in seconds, counted in fixed buckets (cumulative when rendered).
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void observe(double seconds);
  void observe(std::chrono::steady_clock::duration d) {
    observe(std::chrono::duration<double>(d).count());
  }
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  std::string bound_text(std::size_t i) const;  // the i-th upper bound as rendered

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds + 1 (+Inf)
  std::atomic<std::uint64_t> sum_micros_{0};
};

// Buckets from 0.5 ms to 60 s, for command and delivery durations.
const std::vector<double>& duration_buckets();

template <class Series>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Series>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}
  // The series for these label values (created at first use; the reference stays valid).
  Series& with(const Labels& values = {}) {
    std::lock_guard lock(mutex_);
    auto& slot = series_[values];
    if (!slot) slot = make_();
    return *slot;
  }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  template <class F>
  void each(F f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [labels, series] : series_) f(labels, *series);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Series>()> make_;
  mutable std::mutex mutex_;
  std::map<Labels, std::unique_ptr<Series>> series_;
};

// Declares (or finds, when the name is already declared) a family in the process-wide
// registry. Names follow Prometheus conventions: counters end in _total, durations in
// _seconds.
Family<Counter>& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
Family<Gauge>& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
Family<Histogram>& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {},
                             const std::vector<double>& bounds = duration_buckets());

// A value computed when scraped (queue sizes, disk space): one series per entry.
struct Sample {
  Labels labels;
  double value = 0;
};
struct Computed {
  std::string name, help, type;  // type: "gauge" or "counter"
  std::vector<std::string> label_names;
  std::vector<Sample> samples;
};

// Every declared family, then `computed`, in the text exposition format.
std::string render(const std::vector<Computed>& computed = {});

// A label value escaped for the exposition format (\\, \" and \n).
std::string escape_label(const std::string& value);

}  // namespace postino::base::metrics
