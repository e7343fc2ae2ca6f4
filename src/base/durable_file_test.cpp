#include "base/durable_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace postino::base {
namespace {

namespace fs = std::filesystem;

TEST(DurableFile, WritesReplacesWithItsModeAndLeavesNoTemporaryFile) {
  const auto dir = fs::temp_directory_path() / ("postino-durable-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto path = dir / "secret";
  ASSERT_EQ(write_file_durably(path, "one\n", 0600), "");
  ASSERT_EQ(write_file_durably(path, "two\n", 0640), "");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);  // whatever the umask
  EXPECT_FALSE(fs::exists(dir / "secret.tmp"));
  EXPECT_NE(write_file_durably(dir / "missing" / "file", "x", 0600), "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace postino::base
