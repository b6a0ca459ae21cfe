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
            "data_dir, listen, log, recordings, ssh, ssh_ca, tls)");
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

TEST(ConfigTest, MaxChannelsPerConnection) {
  auto d = ParseConfig(DefaultConfigYaml(), "/x/p.yaml");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->ssh_max_channels_per_connection, 10);
  auto c = ParseConfig("ssh:\n  max_channels_per_connection: 3\n", "/x/p.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ssh_max_channels_per_connection, 3);
  EXPECT_NE(ErrorOf("ssh:\n  max_channels_per_connection: 0\n")
                .find(":2: ssh.max_channels_per_connection"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ssh:\n  max_channels_per_connection: 257\n")
                .find("ssh.max_channels_per_connection"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ssh:\n  max_channels_per_connection: many\n").find("expected an integer"),
            std::string::npos);
}

TEST(ConfigTest, OversizedFileRefused) {
  std::string big(2 << 20, '#');
  EXPECT_NE(ErrorOf(big).find("larger than 1 MiB"), std::string::npos);
}

TEST(ConfigTest, RecordingDefaults) {
  auto c = ParseConfig(DefaultConfigYaml(), "/etc/portcullis/portcullis.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->RecordingsDir(), "/etc/portcullis/data/recordings");
  EXPECT_EQ(c->RecordingKeyPath(), "/etc/portcullis/data/keys/recording_ed25519");
  EXPECT_EQ(c->recording_retention.count(), 365 * 86400);
  EXPECT_EQ(c->recording_max_bytes, uint64_t{16} << 30);
  EXPECT_EQ(c->recording_min_free_bytes, uint64_t{64} << 20);
  EXPECT_EQ(c->recording_checkpoint_interval.count(), 4);
  auto empty = ParseConfig("", "/x/p.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->RecordingsDir(), "/x/data/recordings");
  EXPECT_EQ(empty->recording_retention.count(), 365 * 86400);
}

TEST(ConfigTest, RecordingsSection) {
  auto c = ParseConfig(
      "data_dir: /var/lib/pc\nrecordings:\n  dir: rec\n  retention: 30d\n  max_size: 2GiB\n"
      "  min_free: 1G\n  checkpoint_interval: 2s\n",
      "/etc/pc/p.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->RecordingsDir(), "/etc/pc/rec");  // relative to the config file, like data_dir
  EXPECT_EQ(c->recording_retention.count(), 30 * 86400);
  EXPECT_EQ(c->recording_max_bytes, uint64_t{2} << 30);
  EXPECT_EQ(c->recording_min_free_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c->recording_checkpoint_interval.count(), 2);
  auto forever = ParseConfig("recordings:\n  retention: 0\n  dir: /srv/r\n", "/x/p.yaml");
  ASSERT_TRUE(forever.ok()) << forever.status();
  EXPECT_EQ(forever->recording_retention.count(), 0);
  EXPECT_EQ(forever->RecordingsDir(), "/srv/r");
  EXPECT_EQ(ParseConfig("recordings:\n  min_free: 0\n", "/x/p.yaml")->recording_min_free_bytes, 0u);
}

TEST(ConfigTest, RecordingErrorsNameLineAndField) {
  EXPECT_EQ(ErrorOf("recordings:\n  dir: ''\n"),
            "/etc/portcullis/portcullis.yaml:2: recordings.dir: must not be empty");
  EXPECT_EQ(ErrorOf("recordings:\n  retention: forever\n").find(
                "/etc/portcullis/portcullis.yaml:2: recordings.retention: bad duration"),
            0u);
  EXPECT_EQ(ErrorOf("recordings:\n  retention: 2h\n"),
            "/etc/portcullis/portcullis.yaml:2: recordings.retention: at least 1d (or 0 to keep "
            "recordings forever)");
  EXPECT_EQ(ErrorOf("log:\n  level: info\nrecordings:\n  max_size: 32GiB\n"),
            "/etc/portcullis/portcullis.yaml:4: recordings.max_size: must be from 1MiB to 16GiB");
  EXPECT_EQ(ErrorOf("recordings:\n  max_size: 100\n"),
            "/etc/portcullis/portcullis.yaml:2: recordings.max_size: must be from 1MiB to 16GiB");
  EXPECT_EQ(ErrorOf("recordings:\n  max_size: 16 GB\n"),
            "/etc/portcullis/portcullis.yaml:2: recordings.max_size: bad size '16 GB': want bytes "
            "or e.g. 512KiB, 64MiB, 16GiB");
  EXPECT_EQ(ErrorOf("recordings:\n  min_free: 2TiB\n"),
            "/etc/portcullis/portcullis.yaml:2: recordings.min_free: must be at most 1TiB");
  EXPECT_EQ(ErrorOf("recordings:\n  checkpoint_interval: 6s\n"),
            "/etc/portcullis/portcullis.yaml:2: recordings.checkpoint_interval: at most 5s");
  EXPECT_NE(ErrorOf("recordings:\n  checkpoint_interval: 0s\n")
                .find(":2: recordings.checkpoint_interval:"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("recordings:\n  dir: /r\n  keep: 1\n"),
            "/etc/portcullis/portcullis.yaml:3: recordings.keep: unknown field (expected one of: "
            "checkpoint_interval, dir, max_size, min_free, retention)");
  EXPECT_EQ(ErrorOf("recordings: 5\n"),
            "/etc/portcullis/portcullis.yaml:1: recordings: expected a mapping");
}

TEST(ConfigTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("1048576"), 1048576u);
  EXPECT_EQ(*ParseByteSize("512KiB"), 512u << 10);
  EXPECT_EQ(*ParseByteSize("64M"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("16GiB"), uint64_t{16} << 30);
  EXPECT_EQ(*ParseByteSize("1TiB"), uint64_t{1} << 40);
  EXPECT_EQ(*ParseByteSize("7B"), 7u);
  for (const char* bad : {"", "GiB", "1.5GiB", "-1", "1 GiB", "1gib", "1PiB", "99999999999999999999"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
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
