#include "http/client_config.hpp"

#include <gtest/gtest.h>

namespace postino::http {
namespace {

MailServices services() {
  return {"mail.example.org",
          {{MailService::Kind::imap, 993, true},
           {MailService::Kind::imap, 143, false},
           {MailService::Kind::pop3, 995, true},
           {MailService::Kind::smtp, 465, true},
           {MailService::Kind::smtp, 587, false}}};
}

TEST(Autoconfig, ListsIncomingThenOutgoingServersInPreferenceOrder) {
  const auto xml = autoconfig_xml("example.org", services());
  EXPECT_TRUE(
      xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                      "<clientConfig version=\"1.1\">\r\n"
                      "  <emailProvider id=\"example.org\">\r\n"
                      "    <domain>example.org</domain>\r\n"));
  const auto imaps = xml.find("<port>993</port>");
  const auto imap = xml.find("<port>143</port>");
  const auto pop3s = xml.find("<port>995</port>");
  const auto smtps = xml.find("<port>465</port>");
  const auto submission = xml.find("<port>587</port>");
  ASSERT_NE(submission, std::string::npos);
  EXPECT_LT(imaps, imap);
  EXPECT_LT(imap, pop3s);
  EXPECT_LT(pop3s, smtps);
  EXPECT_LT(smtps, submission);
  EXPECT_NE(xml.find("    <incomingServer type=\"imap\">\r\n"
                     "      <hostname>mail.example.org</hostname>\r\n"
                     "      <port>143</port>\r\n"
                     "      <socketType>STARTTLS</socketType>\r\n"
                     "      <authentication>password-cleartext</authentication>\r\n"
                     "      <username>%EMAILADDRESS%</username>\r\n"
                     "    </incomingServer>\r\n"),
            std::string::npos);
  EXPECT_NE(xml.find("<outgoingServer type=\"smtp\">\r\n      <hostname>mail.example.org</hostname>"
                     "\r\n      <port>465</port>\r\n      <socketType>SSL</socketType>"),
            std::string::npos);
}

TEST(Autoconfig, EscapesWhatItWrites) {
  const auto xml = autoconfig_xml("a<b>&\"'", {"h&<", {}});
  EXPECT_NE(xml.find("id=\"a&lt;b&gt;&amp;&quot;&apos;\""), std::string::npos);
  EXPECT_EQ(xml.find("a<b"), std::string::npos);
}

TEST(Autodiscover, ReadsTheAddressOfAPoxRequest) {
  const std::string request =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover "
      "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">"
      "<Request>\n  <EMailAddress> alice@example.org\n</EMailAddress>\n<AcceptableResponseSchema>"
      "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
      "</AcceptableResponseSchema></Request></Autodiscover>";
  EXPECT_EQ(autodiscover_request_address(request), "alice@example.org");
  EXPECT_FALSE(autodiscover_request_address("<EMailAddress>nobody</EMailAddress>"));
  EXPECT_FALSE(autodiscover_request_address("<EMailAddress>a b@c</EMailAddress>"));
  EXPECT_FALSE(autodiscover_request_address("<EMailAddress>a@example.org"));
  EXPECT_FALSE(autodiscover_request_address(""));
}

TEST(Autodiscover, AnswersOneProtocolPerKindWithItsEncryption) {
  const auto xml = autodiscover_xml("alice@example.org", services());
  EXPECT_NE(xml.find("<Response "
                     "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
                     "responseschema/2006a\">"),
            std::string::npos);
  EXPECT_NE(
      xml.find("<Type>IMAP</Type>\r\n        <Server>mail.example.org</Server>\r\n"
               "        <Port>993</Port>\r\n        <LoginName>alice@example.org</LoginName>"),
      std::string::npos);
  EXPECT_EQ(xml.find("<Port>143</Port>"), std::string::npos);  // the preferred one only
  EXPECT_NE(xml.find("<Type>SMTP</Type>"), std::string::npos);
  EXPECT_NE(xml.find("<Encryption>SSL</Encryption>"), std::string::npos);
  const auto starttls_only =
      autodiscover_xml("a@b.c", {"h", {{MailService::Kind::smtp, 587, false}}});
  EXPECT_NE(starttls_only.find("<Port>587</Port>"), std::string::npos);
  EXPECT_NE(starttls_only.find("<Encryption>TLS</Encryption>"), std::string::npos);
  EXPECT_EQ(starttls_only.find("<Type>IMAP</Type>"), std::string::npos);
}

TEST(MtaSts, PolicyHasTheFieldsOfRfc8461) {
  EXPECT_EQ(mta_sts_text({"enforce", {"mail.example.org", "*.backup.example.org"}, 86400}),
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\n"
            "mx: *.backup.example.org\r\nmax_age: 86400\r\n");
}

TEST(RequestDomain, FromTheAddressOrTheHost) {
  EXPECT_EQ(request_domain("Alice@Example.ORG", "ignored"), "example.org");
  EXPECT_EQ(request_domain("", "autoconfig.example.org"), "example.org");
  EXPECT_EQ(request_domain("", "AutoDiscover.Example.org:443"), "example.org");
  EXPECT_EQ(request_domain("", "example.org"), "example.org");
  EXPECT_FALSE(request_domain("", ""));
  EXPECT_FALSE(request_domain("", "[::1]:8080"));
  EXPECT_FALSE(request_domain("", "127.0.0.1:8080"));
  EXPECT_FALSE(request_domain("a@exa mple.org", ""));
  EXPECT_FALSE(request_domain("a@example..org", ""));
  EXPECT_FALSE(request_domain("a@", ""));
}

TEST(QueryParameter, DecodesPercentAndPlus) {
  EXPECT_EQ(query_parameter("/x?emailaddress=alice%40example.org", "emailaddress"),
            "alice@example.org");
  EXPECT_EQ(query_parameter("/x?a=1&emailaddress=b+c%2", "emailaddress"), "b c%2");
  EXPECT_EQ(query_parameter("/x?flag&a=1", "flag"), "");
  EXPECT_FALSE(query_parameter("/x?a=1", "emailaddress"));
  EXPECT_FALSE(query_parameter("/x", "a"));
}

}  // namespace
}  // namespace postino::http
