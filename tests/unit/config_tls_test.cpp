// The config's tls tables and trusted proxies: accepted shapes, relative paths, and errors in
// the FILE:LINE:COLUMN: key: message form.
#include <gtest/gtest.h>

#include "app/config_file.h"

namespace wshub::app {
namespace {

bool load(std::string_view text, AppConfig& config, std::string& error) {
  ConfigError e;
  const bool ok = load_config_text(text, "/etc/wshub/wshub.toml", config, e);
  error = e.message;
  return ok;
}

TEST(ConfigTls, InlineTableWithSniAndAPlainListener) {
  AppConfig config;
  std::string error;
  ASSERT_TRUE(load(R"(
[[listen]]
address = "0.0.0.0:8443"
tls = { cert = "tls/cert.pem", key = "/abs/key.pem", sni = [
  { host = "A.example.com", cert = "a.pem", key = "a.key" },
  { host = "*.example.org", cert = "o.pem", key = "o.key" } ] }
[[listen]]
address = "127.0.0.1:8077"
)", config, error)) << error;
  ASSERT_EQ(config.server.listeners.size(), 2u);
  const auto& tls = config.server.listeners[0].tls;
  ASSERT_TRUE(tls.has_value());
  EXPECT_EQ(tls->files.cert, "/etc/wshub/tls/cert.pem");  // relative to the config file
  EXPECT_EQ(tls->files.key, "/abs/key.pem");
  ASSERT_EQ(tls->sni.size(), 2u);
  EXPECT_EQ(tls->sni[0].host, "a.example.com");
  EXPECT_EQ(tls->sni[0].files.cert, "/etc/wshub/a.pem");
  EXPECT_EQ(tls->sni[1].host, "*.example.org");
  EXPECT_FALSE(config.server.listeners[1].tls.has_value());
}

TEST(ConfigTls, SubTableForm) {
  AppConfig config;
  std::string error;
  ASSERT_TRUE(load(R"(
[[listen]]
address = "0.0.0.0:8443"
[listen.tls]
cert = "cert.pem"
key = "key.pem"
[[listen.tls.sni]]
host = "b.example.com"
cert = "b.pem"
key = "b.key"
)", config, error)) << error;
  ASSERT_TRUE(config.server.listeners[0].tls.has_value());
  EXPECT_EQ(config.server.listeners[0].tls->sni.at(0).files.key, "/etc/wshub/b.key");
}

TEST(ConfigTls, ErrorsNameFileLineColumnAndKey) {
  AppConfig config;
  std::string error;
  EXPECT_FALSE(load("[[listen]]\naddress = \"0.0.0.0:8443\"\ntls = { cert = \"c.pem\" }\n", config, error));
  EXPECT_EQ(error, "/etc/wshub/wshub.toml:3:7: listen.tls.key: missing; expected the path of a PEM file");
  EXPECT_FALSE(load("[[listen]]\naddress = \"0.0.0.0:8443\"\ntls = { cert = \"c.pem\", key = \"k.pem\", crt = \"x\" }\n",
                    config, error));
  EXPECT_EQ(error, "/etc/wshub/wshub.toml:3:40: listen.tls.crt: unknown key; known keys here: cert, key, sni");
  EXPECT_FALSE(load("[[listen]]\naddress = \"0.0.0.0:8443\"\ntls = \"yes\"\n", config, error));
  EXPECT_EQ(error, "/etc/wshub/wshub.toml:3:7: listen.tls: expected a table: tls = { cert = \"cert.pem\", key = \"key.pem\" }");
  EXPECT_FALSE(load("[[listen]]\naddress = \"0.0.0.0:8443\"\ntls = { cert = \"c\", key = \"k\", sni = [ { host = \"10.0.0.1:80\", cert = \"c\", key = \"k\" } ] }\n",
                    config, error));
  EXPECT_EQ(error, "/etc/wshub/wshub.toml:3:49: listen.tls.sni.host: '10.0.0.1:80' is not a DNS name (SNI carries names, not addresses)");
  EXPECT_FALSE(load("[[listen]]\naddress = \"0.0.0.0:8443\"\ntls = { cert = \"c\", key = \"k\", sni = [ { host = \"a.*.com\", cert = \"c\", key = \"k\" } ] }\n",
                    config, error));
  EXPECT_NE(error.find("listen.tls.sni.host: a wildcard must be the whole first label"), std::string::npos) << error;
}

TEST(ConfigTrustedProxies, AddressesAndBlocks) {
  AppConfig config;
  std::string error;
  ASSERT_TRUE(load("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\n", config, error)) << error;
  net::IpAddress ip;
  ASSERT_TRUE(net::IpAddress::parse("10.9.8.7", ip));
  EXPECT_TRUE(config.server.trusted_proxies.contains(ip));
  ASSERT_TRUE(net::IpAddress::parse("11.0.0.1", ip));
  EXPECT_FALSE(config.server.trusted_proxies.contains(ip));
  EXPECT_FALSE(load("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.1/8\"]\n", config, error));
  EXPECT_EQ(error, "/etc/wshub/wshub.toml:2:33: server.trusted_proxies: '10.0.0.1/8' has bits set after the prefix; write 10.0.0.0/8");
  EXPECT_FALSE(load("[server]\ntrusted_proxies = \"127.0.0.1\"\n", config, error));
  EXPECT_EQ(error, "/etc/wshub/wshub.toml:2:19: server.trusted_proxies: expected a list such as [\"127.0.0.1\", \"10.0.0.0/8\"]");
}

}  // namespace
}  // namespace wshub::app
