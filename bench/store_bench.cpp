// store_bench: durable saves per second into the store (fsync on, as in production) with
// 1, 8 and 64 concurrent writers and 4 KB and 100 KB messages. Each message is distinct
// (no de-duplication) and goes through Store::append with the store's options as `serve`
// has them by default (app::store_options of a default configuration): a 4 KB body is
// written in the database row, a 100 KB body appended to the body log and made durable by
// a shared fdatasync, then a group-committed SQLite transaction with synchronous=FULL.
//
//   build/bench/store_bench [--dir DIR] [--seconds N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/store_options.hpp"
#include "config/config.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/text_indexer.hpp"

namespace fs = std::filesystem;
using namespace postino;
using Clock = std::chrono::steady_clock;

namespace {

std::string make_message(std::size_t size, int writer, long n) {
  std::string msg = "From: bench@example.test\r\nTo: demo@example.test\r\nSubject: bench " +
                    std::to_string(writer) + "-" + std::to_string(n) + "\r\n\r\n";
  while (msg.size() + 80 < size) msg += std::string(76, static_cast<char>('a' + (n % 26))) + "\r\n";
  return msg;
}

struct Outcome {
  double per_second;
  double p50_ms, p99_ms;
  long saves;
};

Outcome run(const fs::path& dir, std::size_t size, int writers, double seconds, bool with_indexer) {
  fs::remove_all(dir);
  config::Config defaults;
  defaults.server.data_dir = dir;
  const auto options = app::store_options(defaults);
  auto opened = store::open_sqlite_store(options);
  if (!opened) {
    std::fprintf(stderr, "cannot open store: %s\n", opened.error().detail.c_str());
    std::exit(1);
  }
  auto& s = **opened;
  (void)s.create_domain("example.test");
  auto account = s.create_account("demo@example.test", "x", "").value();
  // As `postino serve` runs it: the full-text indexer shares the writer with the saves.
  std::optional<store::TextIndexer> indexer;
  if (with_indexer) indexer.emplace(s, 1024 * 1024);
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(writers));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (long n = 0; !stop; ++n) {
        const auto msg = make_message(size, w, n);
        const auto t0 = Clock::now();
        auto r = s.append(account, "INBOX", msg, {});
        if (!r) {
          std::fprintf(stderr, "append failed: %s\n", r.error().detail.c_str());
          std::exit(1);
        }
        latencies[static_cast<std::size_t>(w)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const auto at = [&](double q) {
    return all.empty() ? 0.0 : all[static_cast<std::size_t>(q * (all.size() - 1))];
  };
  return {static_cast<double>(all.size()) / elapsed, at(0.5), at(0.99),
          static_cast<long>(all.size())};
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / "postino-store-bench";
  double seconds = 3;
  bool with_indexer = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--dir")
      dir = argv[i + 1];
    else if (arg == "--seconds")
      seconds = std::stod(argv[i + 1]);
    else if (arg == "--indexer")  // "off": saves alone, without the full-text indexer
      with_indexer = std::string(argv[i + 1]) != "off";
  }
  std::printf(
      "| message | writers | saves/s | p50 ms | p99 ms | saves |\n|---|---|---|---|---|---|\n");
  for (std::size_t size : {std::size_t{4 * 1024}, std::size_t{100 * 1024}}) {
    for (int writers : {1, 8, 64}) {
      const auto o = run(dir, size, writers, seconds, with_indexer);
      std::printf("| %zu KB | %d | %.0f | %.2f | %.2f | %ld |\n", size / 1024, writers,
                  o.per_second, o.p50_ms, o.p99_ms, o.saves);
      std::fflush(stdout);
    }
  }
  fs::remove_all(dir);
  return 0;
}
