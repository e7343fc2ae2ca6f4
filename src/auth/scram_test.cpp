// Tests for SCRAM-SHA-256 with the RFC 7677 §3 example exchange.
#include "auth/scram.hpp"

#include <gtest/gtest.h>

#include "base/base64.hpp"

namespace postino::auth {
namespace {

ScramCredentials rfc7677_credentials() {
  return ScramCredentials::derive("pencil", *base::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
}

TEST(Scram, Rfc7677ExampleExchange) {
  ScramServer server;
  EXPECT_EQ(server.receive_client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), "user");
  EXPECT_EQ(server.server_first(rfc7677_credentials(), "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"),
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
            "i=4096");
  EXPECT_EQ(
      server.receive_client_final("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST(ScramExchange, StepsOfTheRfc7677ExampleAndTheirEndings) {
  using Next = ScramExchange::Next;
  ScramExchange x;
  auto first = x.receive("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(first.next, Next::send_server_first);
  EXPECT_EQ(x.username(), "user");
  // server_first with the example's nonce is not reachable from here (random); the
  // ScramServer test above covers the example exchange byte for byte. A wrong proof
  // finishes the exchange as a failed login:
  (void)x.server_first(rfc7677_credentials());
  auto wrong = x.receive("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=AAAA");
  EXPECT_EQ(wrong.next, Next::finish);
  EXPECT_FALSE(wrong.proof_ok);
  EXPECT_EQ(ScramExchange{}.receive("p=tls-unique,,n=user,r=abc").next, Next::malformed);
}

TEST(Scram, WrongProofOrNonceFails) {
  ScramServer server;
  ASSERT_TRUE(server.receive_client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
  server.server_first(rfc7677_credentials(), "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  EXPECT_FALSE(
      server.receive_client_final("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVA="));
  EXPECT_FALSE(server.receive_client_final(
      "c=biws,r=rOprNGfwEbeRWgbNEkqOX,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
  EXPECT_FALSE(
      server.receive_client_final("c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
}

TEST(Scram, ClientFirstParsing) {
  ScramServer s;
  EXPECT_EQ(s.receive_client_first("n,,n=a=2Cb=3Dc,r=abc"), "a,b=c");
  EXPECT_EQ(s.receive_client_first("y,,n=u,r=abc"), "u");
  EXPECT_EQ(s.receive_client_first("n,a=u,n=u,r=abc"), "u");
  for (auto bad : {"", "n", "p=tls-unique,,n=u,r=abc", "n,,n=,r=abc", "n,,n=u", "n,,r=abc,n=u",
                   "n,,n=u=,r=abc", "n,a=other,n=u,r=abc", "n,,m=ext,n=u,r=abc", "x,,n=u,r=a",
                   "n,,n=u,r=a b"}) {
    EXPECT_FALSE(ScramServer{}.receive_client_first(bad)) << bad;
  }
}

TEST(Scram, CredentialsRoundTripAndDecoysAreStable) {
  auto c = ScramCredentials::derive("pw");
  auto parsed = ScramCredentials::parse(c.str());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->str(), c.str());
  EXPECT_FALSE(ScramCredentials::parse("SCRAM-SHA-256$x:AAAA$AAAA:AAAA"));
  EXPECT_FALSE(ScramCredentials::parse("garbage"));
  auto d1 = ScramCredentials::decoy("nobody", "secret");
  EXPECT_EQ(d1.str(), ScramCredentials::decoy("nobody", "secret").str());
  EXPECT_NE(d1.str(), ScramCredentials::decoy("someone", "secret").str());
}

}  // namespace
}  // namespace postino::auth
