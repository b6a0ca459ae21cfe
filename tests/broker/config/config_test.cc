#include "broker/config/config.h"

#include <gtest/gtest.h>

namespace portcullis::config {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto c = ParseConfig(yaml, "/etc/portcullis/portcullis.yaml");
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(ConfigTest, DefaultConfigParsesToDefaults) {
  auto c = ParseConfig(DefaultConfigYaml(), "/etc/portcullis/portcullis.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/etc/portcullis/data");
  EXPECT_EQ(c->grpc.ToString(), "127.0.0.1:7443");
  EXPECT_EQ(c->ssh.port, 2222);
  EXPECT_EQ(c->vnc.port, 5900);
  EXPECT_EQ(c->rdp.port, 3389);
  EXPECT_EQ(c->lockout_failures, 5);
  EXPECT_EQ(c->lockout_window.count(), 900);
  EXPECT_EQ(c->ssh_cert_ttl.count(), 300);
  EXPECT_EQ(c->token_ttl.count(), 12 * 3600);
  EXPECT_EQ(c->DbPath(), "/etc/portcullis/data/portcullis.db");
}

TEST(ConfigTest, EmptyFileMeansDefaults) {
  auto c = ParseConfig("", "/x/p.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data_dir, "/x/data");
}

TEST(ConfigTest, ListenersAndPortZeroDisables) {
  auto c = ParseConfig("listen:\n  grpc: '[::1]:9443'\n  ssh: 0.0.0.0:0\n", "/x/p.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc.host, "::1");
  EXPECT_EQ(c->grpc.ToString(), "[::1]:9443");
  EXPECT_FALSE(c->ssh.enabled());
}

TEST(ConfigTest, ApiCannotBeDisabled) {
  EXPECT_NE(ErrorOf("listen:\n  grpc: 127.0.0.1:0\n").find(":2: listen.grpc: the API cannot be disabled"),
            std::string::npos);
}

TEST(ConfigTest, AbsoluteAndRelativeDataDir) {
  EXPECT_EQ(ParseConfig("data_dir: /var/lib/pc\n", "/x/p.yaml")->data_dir, "/var/lib/pc");
  EXPECT_EQ(ParseConfig("data_dir: ../d\n", "/x/y/p.yaml")->data_dir, "/x/d");
}

TEST(ConfigTest, UnknownTopLevelKeyNamesLineAndField) {
  EXPECT_EQ(ErrorOf("data_dir: d\nlisten_ssh: 1\n"),
            "/etc/portcullis/portcullis.yaml:2: listen_ssh: unknown field (expected one of: auth, "
            "data_dir, listen, log, ssh, ssh_ca, tls)");
}

TEST(ConfigTest, UnknownNestedKey) {
  EXPECT_NE(ErrorOf("listen:\n  grpc: 127.0.0.1:1\n  sssh: 1\n").find(":3: listen.sssh: unknown field"),
            std::string::npos);
}

TEST(ConfigTest, MalformedYaml) {
  EXPECT_NE(ErrorOf("listen: [1\n").find("portcullis.yaml:"), std::string::npos);
  EXPECT_NE(ErrorOf(",\n").find("portcullis.yaml:1:"), std::string::npos);
}

TEST(ConfigTest, NotAMapping) {
  EXPECT_NE(ErrorOf("- a\n- b\n").find("expected a mapping"), std::string::npos);
  EXPECT_NE(ErrorOf("listen: 5\n").find("listen: expected a mapping"), std::string::npos);
}

TEST(ConfigTest, BadValues) {
  EXPECT_NE(ErrorOf("listen:\n  grpc: nohost\n").find(":2: listen.grpc: bad address"),
            std::string::npos);
  EXPECT_NE(ErrorOf("listen:\n  grpc: 1.2.3.4:70000\n").find("port > 65535"), std::string::npos);
  EXPECT_NE(ErrorOf("auth:\n  token_ttl: 5x\n").find(":2: auth.token_ttl: bad duration"),
            std::string::npos);
  EXPECT_NE(ErrorOf("auth:\n  token_ttl: 30d\n").find("at most 7d"), std::string::npos);
  EXPECT_NE(ErrorOf("auth:\n  lockout_failures: 0\n").find("auth.lockout_failures"),
            std::string::npos);
  EXPECT_NE(ErrorOf("auth:\n  lockout_failures: five\n").find("expected an integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ssh_ca:\n  cert_ttl: 11m\n").find("at most 10m"), std::string::npos);
  EXPECT_NE(ErrorOf("ssh_ca:\n  source_address: 'x; rm'\n").find("ssh_ca.source_address"),
            std::string::npos);
  EXPECT_NE(ErrorOf("log:\n  level: loud\n").find("log.level"), std::string::npos);
  EXPECT_NE(ErrorOf("data_dir: [a]\n").find("data_dir: expected a single value"),
            std::string::npos);
  EXPECT_NE(ErrorOf("a: 1\n---\nb: 2\n").find("one YAML document"), std::string::npos);
}

TEST(ConfigTest, OversizedFileRefused) {
  std::string big(2 << 20, '#');
  EXPECT_NE(ErrorOf(big).find("larger than 1 MiB"), std::string::npos);
}

TEST(ListenAddressTest, Parse) {
  EXPECT_TRUE(ParseListenAddress("localhost:22").ok());
  EXPECT_FALSE(ParseListenAddress("::1:22").ok());
  EXPECT_FALSE(ParseListenAddress("[::1]22").ok());
  EXPECT_FALSE(ParseListenAddress(":22").ok());
  EXPECT_FALSE(ParseListenAddress("host:").ok());
  EXPECT_FALSE(ParseListenAddress("ho st:22").ok());
}

}  // namespace
}  // namespace portcullis::config
