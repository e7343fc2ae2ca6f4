// The store contract's fixture: every Store implementation must pass the StoreContract
// tests (STYLE.md example 9), which are spread over several files by subject and run
// against each backend listed where the suite is instantiated (store_contract_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "store/sqlite/sqlite_store.hpp"

namespace postino::store::test_support {

namespace fs = std::filesystem;

// A body's id: the lower-case hex SHA-256 of its bytes (blob_store.hpp).
inline std::string blob_id_of(std::string_view content) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(content.data(), content.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const fs::path& dir, std::chrono::seconds blob_grace)> open;
};

inline std::unique_ptr<Store> open_sqlite(const fs::path& dir, std::chrono::seconds grace) {
  SqliteOptions o;
  o.data_dir = dir;
  o.blob_grace = grace;
  o.text_index_quiet = std::chrono::milliseconds(0);
  auto s = open_sqlite_store(o);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

class StoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-store-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::remove_all(dir_);
    reopen();
    ASSERT_TRUE(store_->create_domain("example.test"));
    auto id = store_->create_account("demo@example.test", "$y$hash", "");
    ASSERT_TRUE(id) << id.error().detail;
    demo_ = *id;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void reopen(std::chrono::seconds grace = std::chrono::seconds(3600)) {
    store_.reset();
    store_ = GetParam().open(dir_, grace);
  }
  MailboxInfo box(const std::string& name, AccountId who = AccountId()) {
    auto m = store_->mailbox(who == AccountId() ? demo_ : who, name);
    EXPECT_TRUE(m) << name;
    return m ? *m : MailboxInfo{};
  }
  std::size_t blob_files() {
    std::size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) {
      if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") ++n;
    }
    return n;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  AccountId demo_;
};

}  // namespace postino::store::test_support
