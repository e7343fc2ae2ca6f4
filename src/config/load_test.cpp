// Tests for config loading: values land in the right fields, every error has its position.
#include "config/load.hpp"

#include <gtest/gtest.h>

#include <set>

#include "config/keys.hpp"
#include "config/render.hpp"

namespace postino::config {
namespace {

TEST(ConfigLoad, AppliesValuesToTheirFields) {
  Config c;
  auto errors = apply_toml(c, R"(
[server]
hostname = "mx.example.org"
shutdown_grace_seconds = 2
[limits]
max_connections_per_ip = 7
trusted_networks = ["10.0.0.0/8"]
[listen]
smtp = ["127.0.0.1:25", "[::1]:25"]
imaps = "127.0.0.1:993"
[smtp]
max_line_bytes = 1000
[log]
buffer_bytes = 65536
gather_ms = 0
[store]
log_body_bytes = 0
log_segment_bytes = 2097152
log_compact_percent = 30
)",
                           "t.toml");
  ASSERT_TRUE(errors.empty()) << errors.front().str();
  EXPECT_EQ(c.server.hostname, "mx.example.org");
  EXPECT_EQ(c.server.shutdown_grace, std::chrono::seconds(2));
  EXPECT_EQ(c.limits.max_connections_per_ip, 7);
  EXPECT_EQ(c.limits.trusted_networks, std::vector<std::string>{"10.0.0.0/8"});
  ASSERT_EQ(c.listen[Protocol::smtp].size(), 2u);
  EXPECT_EQ(c.listen[Protocol::smtp][1].str(), "[::1]:25");
  EXPECT_EQ(c.listen[Protocol::imaps][0].port, 993);
  EXPECT_EQ(c.listen[Protocol::pop3][0].port, 110);  // untouched keys keep their defaults
  EXPECT_EQ(c.smtp.max_line_bytes, 1000);
  EXPECT_EQ(c.log.buffer_bytes, 65536);
  EXPECT_EQ(c.log.gather_ms, 0);
  EXPECT_EQ(c.store.log_body_bytes, 0);
  EXPECT_EQ(c.store.log_segment_bytes, 2097152);
  EXPECT_EQ(c.store.log_compact_percent, 30);
}

TEST(ConfigLoad, ReportsEveryErrorWithLineAndColumnAndAppliesNothing) {
  Config c;
  auto errors = apply_toml(c, R"([server]
hostname = 5
[smtp]
max_line_bytes = 10
colour = "blue"
[listen]
imap = "localhost:143"
)",
                           "bad.toml");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].str(), "bad.toml:2:12: server.hostname: expected a string");
  EXPECT_EQ(errors[1].line, 4u);
  EXPECT_NE(errors[1].message.find("between 512 and"), std::string::npos);
  EXPECT_EQ(errors[2].str(), "bad.toml:5:1: unknown key 'smtp.colour'");
  EXPECT_EQ(errors[3].line, 7u);
  EXPECT_EQ(c.server.hostname, "");  // nothing half-applied
}

TEST(ConfigLoad, SyntaxErrorHasItsPosition) {
  Config c;
  auto errors = apply_toml(c, "[server]\nhostname = \"unterminated\n", "x.toml");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 2u);
  EXPECT_GT(errors[0].column, 0u);
}

TEST(ConfigLoad, UnknownSectionAndNestedTablesAreErrors) {
  Config c;
  auto errors = apply_toml(c, "[nope]\na = 1\n[smtp.deeper]\nb = 2\n", "x.toml");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message, "unknown section 'nope'");
  EXPECT_EQ(errors[1].message, "unknown section 'smtp.deeper'");
}

TEST(ConfigLoad, ChoicesAreEnforced) {
  Config c;
  auto errors = apply_toml(c, "[tls]\nmin_version = \"1.1\"\n", "x.toml");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "tls.min_version: must be one of \"1.2\" \"1.3\"");
}

TEST(ConfigLoad, PageSizeMustBeAPowerOfTwo) {
  Config c;
  auto errors = apply_toml(c, "[store]\npage_size = 12288\n", "x.toml");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "store.page_size: must be a power of two between 1024 and 65536");
  EXPECT_TRUE(apply_toml(c, "[store]\npage_size = 131072\n", "x.toml").size() == 1u);
  ASSERT_TRUE(apply_toml(c, "[store]\npage_size = 4096\n", "x.toml").empty());
  EXPECT_EQ(c.store.page_size, 4096);
}

// The numeric kinds share one reading (key_kinds::read_bounded): each says what it wanted.
TEST(ConfigLoad, NumbersOutOfRangeOrOfTheWrongTypeAreNamed) {
  Config c;
  auto errors = apply_toml(c,
                           "[server]\nshutdown_grace_seconds = \"soon\"\n"
                           "[store]\nwal_checkpoint_bytes = 1024\npage_size = 512.0\n",
                           "x.toml");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].message, "server.shutdown_grace_seconds: expected a whole number of seconds");
  EXPECT_EQ(errors[1].message, "store.wal_checkpoint_bytes: must be between 65536 and 1073741824");
  EXPECT_EQ(errors[2].message, "store.page_size: expected an integer");
  ASSERT_TRUE(apply_toml(c, "[server]\nshutdown_grace_seconds = 7\n", "x.toml").empty());
  EXPECT_EQ(c.server.shutdown_grace, std::chrono::seconds(7));
}

TEST(ConfigRender, ExampleLoadsBackToTheDefaults) {
  Config c;
  c.server.hostname = "changed";
  auto errors = apply_toml(c, render_example(), "example.toml");
  ASSERT_TRUE(errors.empty()) << errors.front().str();
  const Config defaults;
  for (const auto& k : keys()) EXPECT_EQ(k.show(c), k.show(defaults)) << k.name;
}

TEST(ConfigRender, EachSectionAppearsOnce) {
  // A TOML table may be defined only once; the key table must keep sections together.
  std::set<std::string> seen;
  std::string previous;
  for (const auto& k : keys()) {
    const auto section = k.name.substr(0, k.name.find('.'));
    if (section != previous) {
      EXPECT_TRUE(seen.insert(section).second) << section << " split";
    }
    previous = section;
  }
}

TEST(ConfigRender, MarkdownListsEveryKey) {
  const auto md = render_markdown();
  for (const auto& k : keys()) EXPECT_NE(md.find("`" + k.name + "`"), std::string::npos);
}

TEST(ConfigValidate, ListenersNeedACertificate) {
  Config c;
  EXPECT_EQ(validate(c, "x").size(), 1u);
  c.tls.cert_file = "c.pem";
  c.tls.key_file = "k.pem";
  EXPECT_TRUE(validate(c, "x").empty());
  EXPECT_TRUE(validate(Config::development("/tmp/d"), "x").empty());
}

}  // namespace
}  // namespace postino::config
