// Tests for MX routing (RFC 5321 §5.1, RFC 7505).
#include "queue/route.hpp"

#include <gtest/gtest.h>

#include <set>

namespace postino::queue {
namespace {

using Kind = MxAnswer::Kind;

Route plan(const MxAnswer& answer, std::vector<std::string> ours = {"mail.example.test"},
           unsigned seed = 1) {
  std::mt19937 rng(seed);
  return plan_route("remote.test", answer, ours, rng);
}

TEST(Route, MxInPreferenceOrderWithBackupsAfter) {
  auto r = plan({Kind::records, {{20, "Backup.Remote.Test."}, {10, "mx1.remote.test."}}});
  EXPECT_EQ(r.kind, Route::Kind::hosts);
  EXPECT_EQ(r.hosts, (std::vector<std::string>{"mx1.remote.test", "backup.remote.test"}));
}

TEST(Route, EqualPreferencesAreShuffled) {
  std::set<std::string> first;
  for (unsigned seed = 0; seed < 50; ++seed) {
    auto r =
        plan({Kind::records, {{10, "a.remote.test"}, {10, "b.remote.test"}, {20, "c.remote.test"}}},
             {}, seed);
    ASSERT_EQ(r.hosts.size(), 3u);
    EXPECT_EQ(r.hosts[2], "c.remote.test");
    first.insert(r.hosts[0]);
  }
  EXPECT_EQ(first, (std::set<std::string>{"a.remote.test", "b.remote.test"}));
}

TEST(Route, NoMxMeansTheDomainItselfAndNxdomainBounces) {
  EXPECT_EQ(plan({Kind::no_records, {}}).hosts, std::vector<std::string>{"remote.test"});
  auto gone = plan({Kind::nxdomain, {}});
  EXPECT_EQ(gone.kind, Route::Kind::bounce);
  EXPECT_TRUE(gone.reason.starts_with("550 5.1.2 ")) << gone.reason;
  auto later = plan({Kind::temporary, {}});
  EXPECT_EQ(later.kind, Route::Kind::defer);
  EXPECT_TRUE(later.reason.starts_with("451 4.4.3 ")) << later.reason;
}

TEST(Route, NullMxBouncesAtOnce) {
  auto r = plan({Kind::records, {{0, "."}}});
  EXPECT_EQ(r.kind, Route::Kind::bounce);
  EXPECT_TRUE(r.reason.starts_with("556 5.1.10 ")) << r.reason;
  // A "." beside real MX is not a null MX (RFC 7505 §3): it is skipped.
  EXPECT_EQ(plan({Kind::records, {{0, "."}, {10, "mx.remote.test"}}}).hosts,
            std::vector<std::string>{"mx.remote.test"});
}

TEST(Route, NeverToOurselvesNorToWorseMxThanOurs) {
  auto r = plan({Kind::records,
                 {{10, "mx1.remote.test"}, {20, "MAIL.example.test."}, {30, "mx3.remote.test"}}});
  EXPECT_EQ(r.hosts, std::vector<std::string>{"mx1.remote.test"});
  auto loop = plan({Kind::records, {{10, "mail.example.test"}, {20, "mx2.remote.test"}}});
  EXPECT_EQ(loop.kind, Route::Kind::bounce);
  EXPECT_TRUE(loop.reason.starts_with("554 5.4.6 ")) << loop.reason;
}

}  // namespace
}  // namespace postino::queue
