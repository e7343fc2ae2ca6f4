// One directory fsync shared by the saves that arrive together.
#include "store/shared_sync.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace postino::store {
namespace {

TEST(SharedSyncTest, CallersThatArriveTogetherShareOneOperationThatBeganAfterThem) {
  std::atomic<int> operations{0};
  std::atomic<std::uint64_t> done_through{0};  // the callers every finished one covers
  std::atomic<std::uint64_t> arrived{0};
  SharedSync shared([&]() -> Result<void> {
    const auto covers = arrived.load();
    ++operations;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    done_through = covers;
    return {};
  });
  constexpr int threads = 16, each = 20;
  std::atomic<int> not_covered{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < each; ++i) {
        const auto me = ++arrived;  // "the rename", before the call
        ASSERT_TRUE(shared.sync());
        if (done_through.load() < me) ++not_covered;
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(not_covered.load(), 0);                  // each returned after an operation that saw it
  EXPECT_LT(operations.load(), threads * each / 2);  // and most shared one
  EXPECT_GT(operations.load(), 0);
}

TEST(SharedSyncTest, AFailureGoesToTheCallersItWasForOnly) {
  int calls = 0;
  SharedSync shared([&]() -> Result<void> {
    if (++calls == 2) return make_error(ErrorKind::temporary, "fsync new: Input/output error");
    return {};
  });
  EXPECT_TRUE(shared.sync());
  auto failed = shared.sync();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().detail, "fsync new: Input/output error");
  EXPECT_TRUE(shared.sync());  // the next caller has an operation of its own
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace postino::store
