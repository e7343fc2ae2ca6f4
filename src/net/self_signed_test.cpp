// Tests for the development certificate: SANs, reuse, regeneration, key permissions.
#include "net/self_signed.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

namespace postino::net {
namespace {

namespace fs = std::filesystem;

class SelfSigned : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-cert-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SelfSigned, CreatesCertificateWithEveryNameAndAPrivateKey) {
  auto r = ensure_self_signed(dir_ / "tls/cert.pem", dir_ / "tls/key.pem", {"localhost", "mx.test"},
                              {"127.0.0.1", "::1"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.sha256_fingerprint.size(), 32u * 3 - 1);
  EXPECT_EQ(sha256_fingerprint(dir_ / "tls/cert.pem"), r.sha256_fingerprint);

  FILE* f = std::fopen((dir_ / "tls/cert.pem").c_str(), "rb");
  ASSERT_TRUE(f);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_host(cert, "mx.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(cert, "other.test", 0, 0, nullptr), 1);
  X509_free(cert);

  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "tls/key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(dir_ / "tls/cert.pem.tmp"));
}

TEST_F(SelfSigned, ReusesAGoodCertificateAndReplacesOneMissingAName) {
  auto first = ensure_self_signed(dir_ / "c.pem", dir_ / "k.pem", {"localhost"}, {"127.0.0.1"});
  ASSERT_TRUE(first.created);
  auto again = ensure_self_signed(dir_ / "c.pem", dir_ / "k.pem", {"localhost"}, {"127.0.0.1"});
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.sha256_fingerprint, first.sha256_fingerprint);
  auto renamed = ensure_self_signed(dir_ / "c.pem", dir_ / "k.pem", {"newname"}, {"127.0.0.1"});
  EXPECT_TRUE(renamed.created);
  EXPECT_NE(renamed.sha256_fingerprint, first.sha256_fingerprint);
}

TEST_F(SelfSigned, FingerprintOfMissingFileIsEmpty) {
  EXPECT_EQ(sha256_fingerprint(dir_ / "nope.pem"), "");
}

}  // namespace
}  // namespace postino::net
