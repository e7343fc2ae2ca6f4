// Tests for DKIM keys and signatures; the cryptographic check is dkimpy's, in
// tests/e2e/test_outbound.py.
#include "dkim/signer.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <regex>

#include "base/base64.hpp"

namespace postino::dkim {
namespace {

namespace fs = std::filesystem;

class Signer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("postino-dkim-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Signer, GeneratedKeysLoadAndPrintTheirRecord) {
  const auto rsa = generate_key(dir_, "Example.TEST", "s1", Algorithm::rsa_sha256);
  EXPECT_TRUE(rsa.starts_with("s1._domainkey.example.test. IN TXT \"v=DKIM1; k=rsa; p=MII")) << rsa;
  const auto ed = generate_key(dir_, "example.test", "s2", Algorithm::ed25519_sha256);
  EXPECT_TRUE(std::regex_match(
      ed,
      std::regex(
          R"(s2\._domainkey\.example\.test\. IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=")")))
      << ed;
  EXPECT_TRUE(
      generate_key(dir_, "example.test", "s1", Algorithm::rsa_sha256).starts_with("error:"));
  EXPECT_EQ(fs::status(dir_ / "example.test" / "s1.rsa.pem").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  KeyRing ring;
  EXPECT_TRUE(ring.load(dir_).empty());
  ASSERT_NE(ring.find("EXAMPLE.test"), nullptr);
  EXPECT_EQ(ring.find("example.test")->size(), 2u);
  EXPECT_EQ(ring.find("other.test"), nullptr);
}

TEST_F(Signer, SignsTheFieldsPresentWithTheBodyHash) {
  generate_key(dir_, "example.test", "sel", Algorithm::ed25519_sha256);
  KeyRing ring;
  ring.load(dir_);
  const std::string message =
      "Received: from x\r\nFrom: A <a@Example.Test>\r\nTo: b@far.test\r\nSubject: hi\r\n"
      "\r\nbody  text \r\n\r\n";
  MessageSigner signer;
  for (std::size_t i = 0; i < message.size(); i += 7) signer.feed(message.substr(i, 7));
  EXPECT_EQ(signer.from_domain(), "example.test");
  const auto header = signer.sign(*ring.find("example.test"), std::chrono::system_clock::now());
  EXPECT_TRUE(
      header.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; "
                         "d=example.test; s=sel;\r\n\tt="))
      << header;
  EXPECT_NE(header.find("h=from:from:to:subject;"), std::string::npos) << header;
  // bh= is the SHA-256 of "body text\r\n".
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest("body text\r\n", 11, md, &n, EVP_sha256(), nullptr);
  EXPECT_NE(header.find("bh=" + base::base64_encode(std::string(reinterpret_cast<char*>(md), n))),
            std::string::npos);
  EXPECT_TRUE(header.ends_with("\r\n"));
  EXPECT_EQ(header.find("\r\n\r\n"), std::string::npos);
}

TEST_F(Signer, NothingWithoutKeysOrWithAHugeHeader) {
  MessageSigner signer(64);
  signer.feed("From: a@example.test\r\nSubject: " + std::string(100, 'x') + "\r\n\r\nb\r\n");
  EXPECT_EQ(signer.from_domain(), "");
  generate_key(dir_, "example.test", "sel", Algorithm::ed25519_sha256);
  KeyRing ring;
  ring.load(dir_);
  EXPECT_EQ(signer.sign(*ring.find("example.test"), std::chrono::system_clock::now()), "");
  MessageSigner plain;
  plain.feed("From: a@example.test\r\n\r\nb\r\n");
  EXPECT_EQ(plain.sign({}, std::chrono::system_clock::now()), "");
}

}  // namespace
}  // namespace postino::dkim
