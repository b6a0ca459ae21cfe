// The SSH files `portcullis login` writes: host parsing, known_hosts and
// ssh_config text (checked with the real `ssh -G` where it matters), the
// login key made once, and the checks on the returned certificate.
#include "broker/cli/ssh_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/ssh_certificate.h"
#include "broker/common/encoding.h"
#include "tests/support/test_util.h"

namespace portcullis::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using portcullis::testing::CommandResult;
using portcullis::testing::RunCommand;
using portcullis::testing::TempDir;

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

TEST(SshFilesTest, BrokerHostTakesTheHostPart) {
  EXPECT_EQ(*BrokerHost("127.0.0.1:7443"), "127.0.0.1");
  EXPECT_EQ(*BrokerHost("broker.plant-a.example:7443"), "broker.plant-a.example");
  EXPECT_EQ(*BrokerHost("[::1]:7443"), "::1");
  EXPECT_EQ(*BrokerHost("broker"), "broker");
  for (const char* bad : {"", ":7443", "[::1", "a b:1", "a\"b:1", "host\n:1", "%h:1", "a/b:1"}) {
    EXPECT_FALSE(BrokerHost(bad).ok()) << bad;
  }
}

TEST(SshFilesTest, KnownHostsBracketsNonStandardPortsAndAddsPlainFor22) {
  const std::string key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb5";
  std::string text = KnownHostsText("127.0.0.1", 2222, key);
  EXPECT_THAT(text, HasSubstr("\n[127.0.0.1]:2222 " + key + "\n"));
  EXPECT_THAT(text, Not(HasSubstr("\n127.0.0.1 ")));
  text = KnownHostsText("broker", 22, key);
  EXPECT_THAT(text, HasSubstr("\n[broker]:22 " + key + "\n"));
  EXPECT_THAT(text, HasSubstr("\nbroker " + key + "\n"));
}

TEST(SshFilesTest, PathsAreAbsolute) {
  SshFilePaths p = SshFilesIn("relative/dir/");
  EXPECT_EQ(p.dir.front(), '/');
  EXPECT_NE(p.dir.back(), '/');
  EXPECT_EQ(p.key, p.dir + "/id_ed25519");
  EXPECT_EQ(p.public_key, p.dir + "/id_ed25519.pub");
  EXPECT_EQ(p.certificate, p.dir + "/id_ed25519-cert.pub");
  EXPECT_EQ(p.known_hosts, p.dir + "/known_hosts");
  EXPECT_EQ(p.ssh_config, p.dir + "/ssh_config");
}

TEST(SshFilesTest, SshConfigReadsBackThroughSshWithOddPaths) {
  TempDir tmp("pc-sshfiles");
  // A space and a '%' in the path: quoted, and '%' doubled for ssh's tokens.
  SshFilePaths paths = SshFilesIn(tmp.Join("my home 100%"));
  SshConfigInput in{"broker.example", 2222, "bob", {"rtu-01", "rtu-02"}};
  const std::string text = SshConfigText(in, paths);
  EXPECT_THAT(text, HasSubstr("IdentityFile \"" + tmp.path() + "/my home 100%%/id_ed25519\""));
  ASSERT_TRUE(portcullis::testing::WriteWholeFile(tmp.Join("config"), text).ok());

  CommandResult g = RunCommand({"ssh", "-G", "-F", tmp.Join("config"), "rtu-02"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_THAT(g.out, HasSubstr("\nuser bob:rtu-02\n"));
  EXPECT_THAT(g.out, HasSubstr("\nhostname broker.example\n"));
  EXPECT_THAT(g.out, HasSubstr("\nport 2222\n"));
  EXPECT_THAT(g.out, HasSubstr("\nuserknownhostsfile " + paths.known_hosts + "\n"));
  EXPECT_THAT(g.out, HasSubstr("\nstricthostkeychecking true\n"));
  EXPECT_THAT(g.out, HasSubstr("\nidentitiesonly yes\n"));

  // `ssh -G` shows IdentityFile and CertificateFile before expanding
  // tokens; what ssh loads is in its debug log (no connection: the proxy
  // command exits at once).
  ASSERT_TRUE(EnsureLoginKey(paths).ok());
  CommandResult v = RunCommand(
      {"ssh", "-vv", "-F", tmp.Join("config"), "-o", "ProxyCommand=true", "rtu-02"});
  EXPECT_THAT(v.err, HasSubstr("identity file " + paths.key + " type 3\r\n"));
  EXPECT_THAT(v.err, HasSubstr("certificate file " + paths.certificate + " type"));

  CommandResult menu = RunCommand({"ssh", "-G", "-F", tmp.Join("config"), "portcullis"});
  ASSERT_EQ(menu.exit_code, 0) << menu.err;
  EXPECT_THAT(menu.out, HasSubstr("\nuser bob\n"));
  // A host that is no target is not sent to the broker.
  CommandResult other = RunCommand({"ssh", "-G", "-F", tmp.Join("config"), "plc-09"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_THAT(other.out, Not(HasSubstr("\nport 2222\n")));
}

TEST(SshFilesTest, LoginKeyIsMadeOnceWithPrivateModes) {
  TempDir tmp("pc-sshfiles");
  SshFilePaths paths = SshFilesIn(tmp.Join("home"));
  auto first = EnsureLoginKey(paths);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Mode(paths.dir), 0700);
  EXPECT_EQ(Mode(paths.key), 0600);
  EXPECT_EQ(Mode(paths.public_key), 0644);
  EXPECT_THAT(*first, ::testing::StartsWith("ssh-ed25519 AAAA"));
  EXPECT_THAT(*first, ::testing::EndsWith(" portcullis"));
  auto again = EnsureLoginKey(paths);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  // A damaged public half: a fresh pair.
  ASSERT_TRUE(portcullis::testing::WriteWholeFile(paths.public_key, "garbage\n").ok());
  auto fresh = EnsureLoginKey(paths);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(*fresh, *first);
  CommandResult y = RunCommand({"ssh-keygen", "-y", "-f", paths.key});
  ASSERT_EQ(y.exit_code, 0) << y.err;
  EXPECT_EQ(y.out.substr(0, 80), fresh->substr(0, 80));
}

TEST(SshFilesTest, CheckLoginCertificateWantsOurKeyAndOurName) {
  ca::Ed25519Key ca_key = ca::Ed25519Key::Generate();
  ca::Ed25519Key mine = ca::Ed25519Key::Generate();
  auto cert_for = [&](const ca::Ed25519Key& subject, std::vector<std::string> principals,
                      uint32_t type = ca::kCertTypeUser) {
    ca::CertificateFields f;
    f.subject_public_blob = subject.PublicBlob();
    f.serial = 7;
    f.type = type;
    f.key_id = "k";
    f.principals = std::move(principals);
    f.valid_after = 1000;
    f.valid_before = 2000;
    auto blob = ca::SignCertificate(f, ca_key);
    EXPECT_TRUE(blob.ok());
    return ca::CertificateLine(*blob, "k");
  };
  const std::string pub = mine.AuthorizedKeyLine("portcullis");
  auto ok = CheckLoginCertificate(cert_for(mine, {"bob"}), pub, "bob");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->valid_before, 2000u);
  EXPECT_FALSE(CheckLoginCertificate(cert_for(mine, {"alice"}), pub, "bob").ok());
  EXPECT_FALSE(CheckLoginCertificate(cert_for(ca::Ed25519Key::Generate(), {"bob"}), pub, "bob").ok());
  EXPECT_FALSE(CheckLoginCertificate(cert_for(mine, {"bob"}, ca::kCertTypeHost), pub, "bob").ok());
  EXPECT_FALSE(CheckLoginCertificate(pub, pub, "bob").ok());  // not a certificate
  EXPECT_FALSE(CheckLoginCertificate("", pub, "bob").ok());
}

TEST(SshFilesTest, WriteSshFilesSkipsConfigWhenTheListenerIsOff) {
  TempDir tmp("pc-sshfiles");
  SshFilePaths paths = SshFilesIn(tmp.path());
  ASSERT_TRUE(WriteSshFiles(paths, "ssh-ed25519-cert-v01@openssh.com AAAA k", "ssh-ed25519 AAAA",
                            SshConfigInput{"h", 0, "bob", {}})
                  .ok());
  EXPECT_EQ(Mode(paths.certificate), 0644);
  EXPECT_EQ(Mode(paths.known_hosts), -1);
  EXPECT_EQ(Mode(paths.ssh_config), -1);
  ASSERT_TRUE(WriteSshFiles(paths, "ssh-ed25519-cert-v01@openssh.com AAAA k", "ssh-ed25519 AAAA",
                            SshConfigInput{"h", 2222, "bob", {}})
                  .ok());
  EXPECT_EQ(Mode(paths.known_hosts), 0644);
  EXPECT_EQ(Mode(paths.ssh_config), 0644);
  RemoveLoginCertificate(paths);
  EXPECT_EQ(Mode(paths.certificate), -1);
  RemoveLoginCertificate(paths);  // missing is fine
}

}  // namespace
}  // namespace portcullis::cli
