// The SSH access path's control plane through the real CLI: `sessions ls |
// kill`, `keys add | ls | rm` (fingerprints as ssh-keygen prints them), and
// users' keys going with the user. Live sessions themselves need the SSH
// listener and are tested with it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class SessionsKeysTest : public BrokerTest {
 protected:
  // Starts a broker, logs the admin in, creates and logs in bob (no roles).
  void StartWithBob() {
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
    auto secret = broker().AddUser("bob", kBobPassword, {});
    ASSERT_TRUE(secret.ok()) << secret.status();
    CommandResult login = broker().Login(Bob(), "bob", kBobPassword, TotpCode(*secret));
    ASSERT_EQ(login.exit_code, 0) << Describe(login);
  }
  std::string Bob() const { return broker_->Home("bob"); }
  CommandResult AsBob(const std::vector<std::string>& args, std::string_view in = "") {
    return broker().Cli(Bob(), args, in);
  }
  // ssh-keygen -t TYPE [-b BITS] into the test dir; returns the .pub path.
  std::string MakeKey(const std::string& name, const std::string& type, const std::string& bits,
                      const std::string& comment) {
    const std::string path = broker().Join(name);
    std::vector<std::string> argv = {"ssh-keygen", "-q", "-t", type, "-N", "", "-C", comment,
                                     "-f", path};
    if (!bits.empty()) {
      argv.push_back("-b");
      argv.push_back(bits);
    }
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return path + ".pub";
  }
  // The SHA256:... field of `ssh-keygen -lf PUB`.
  static std::string SshKeygenFingerprint(const std::string& pub) {
    CommandResult r = RunCommand({"ssh-keygen", "-l", "-E", "sha256", "-f", pub});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    std::vector<std::string> fields;
    std::string field;
    for (char c : r.out) {
      if (c == ' ' || c == '\n') {
        if (!field.empty()) fields.push_back(field);
        field.clear();
      } else {
        field += c;
      }
    }
    return fields.size() >= 2 ? fields[1] : "";
  }
  nlohmann::json Json(const CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out;
    return j.is_array() ? j : nlohmann::json::array();
  }
  int CountAudit(const std::string& type, const std::string& actor, const std::string& subject) {
    int n = 0;
    for (const auto& e : Json(Admin({"audit", "ls", "--json", "--type", type}))) {
      n += e.value("actor", "") == actor && e.value("subject", "") == subject;
    }
    return n;
  }
};

TEST_F(SessionsKeysTest, SessionsLsEmptyKillRefusedOrNotFound) {
  ASSERT_NO_FATAL_FAILURE(StartWithBob());
  CommandResult ls = Admin({"sessions", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_EQ(ls.out.substr(0, ls.out.find('\n')).find("ID"), 0u) << ls.out;
  EXPECT_THAT(ls.out, HasSubstr("LOGIN@TARGET"));
  EXPECT_THAT(ls.out, HasSubstr("BYTES(up/down)"));
  EXPECT_EQ(std::count(ls.out.begin(), ls.out.end(), '\n'), 1) << "header only:\n" << ls.out;
  EXPECT_EQ(Json(Admin({"sessions", "ls", "--json"})), nlohmann::json::array());

  CommandResult bob_ls = AsBob({"sessions", "ls", "--json"});
  EXPECT_EQ(Json(bob_ls), nlohmann::json::array());

  CommandResult bob_kill = AsBob({"sessions", "kill", "0123456789ab"});
  EXPECT_EQ(bob_kill.exit_code, 1) << Describe(bob_kill);
  EXPECT_EQ(bob_kill.err, "portcullis: this needs the admin role\n");
  EXPECT_EQ(bob_kill.out, "");

  CommandResult kill = Admin({"sessions", "kill", "0123456789ab"});
  EXPECT_EQ(kill.exit_code, 1) << Describe(kill);
  EXPECT_EQ(kill.err, "portcullis: no live session 0123456789ab\n");
  EXPECT_EQ(CountAudit("session.kill", "alice", "0123456789ab"), 0);

  CommandResult usage = Admin({"sessions", "kill"});
  EXPECT_EQ(usage.exit_code, 2) << Describe(usage);
}

TEST_F(SessionsKeysTest, KeysAddLsRmWithSshKeygenFingerprints) {
  ASSERT_NO_FATAL_FAILURE(StartWithBob());
  const std::string ed = MakeKey("bob_ed", "ed25519", "", "bob@laptop");
  const std::string ec = MakeKey("bob_ec", "ecdsa", "384", "bob@token");
  const std::string rsa = MakeKey("bob_rsa", "rsa", "3072", "bob@old");
  const std::string ed_fp = SshKeygenFingerprint(ed);
  const std::string ec_fp = SshKeygenFingerprint(ec);
  const std::string rsa_fp = SshKeygenFingerprint(rsa);
  ASSERT_EQ(ed_fp.substr(0, 7), "SHA256:");

  CommandResult add = AsBob({"keys", "add", ed});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  EXPECT_EQ(add.out, "added key " + ed_fp + " (ssh-ed25519, bob@laptop) for bob\n");
  auto ec_line = ReadWholeFile(ec);
  ASSERT_TRUE(ec_line.ok());
  add = AsBob({"keys", "add", "-"}, *ec_line);  // from stdin
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  EXPECT_EQ(add.out, "added key " + ec_fp + " (ecdsa-sha2-nistp384, bob@token) for bob\n");
  add = AsBob({"keys", "add", rsa});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  EXPECT_THAT(add.out, HasSubstr(rsa_fp));

  CommandResult dup = AsBob({"keys", "add", ed});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_EQ(dup.err, "portcullis: key " + ed_fp + " is already registered for bob\n");

  CommandResult ls = AsBob({"keys", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_THAT(ls.out, HasSubstr("FINGERPRINT"));
  const size_t row = ls.out.find("\n" + ed_fp + " ");
  ASSERT_NE(row, std::string::npos) << ls.out;
  EXPECT_THAT(ls.out.substr(row + 1, ls.out.find('\n', row + 1) - row - 1),
              ::testing::MatchesRegex(".* ssh-ed25519 .* bob@laptop"));
  EXPECT_THAT(ls.out, HasSubstr("bob@token"));
  auto keys = Json(AsBob({"keys", "ls", "--json"}));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0]["fingerprint"], ed_fp);
  EXPECT_EQ(keys[0]["type"], "ssh-ed25519");
  EXPECT_EQ(keys[0]["comment"], "bob@laptop");
  auto ed_line = ReadWholeFile(ed);
  ASSERT_TRUE(ed_line.ok());
  EXPECT_EQ(keys[0]["public_key"], Trim(*ed_line));
  EXPECT_EQ(keys[1]["type"], "ecdsa-sha2-nistp384");
  EXPECT_EQ(keys[2]["type"], "ssh-rsa");

  CommandResult rm = AsBob({"keys", "rm", ec_fp});
  ASSERT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_EQ(rm.out, "removed key " + ec_fp + "\n");
  rm = AsBob({"keys", "rm", ec_fp});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_EQ(rm.err, "portcullis: bob has no key " + ec_fp + "\n");
  EXPECT_EQ(Json(AsBob({"keys", "ls", "--json"})).size(), 2u);

  EXPECT_EQ(CountAudit("key.add", "bob", "bob"), 3);
  EXPECT_EQ(CountAudit("key.remove", "bob", "bob"), 1);
}

TEST_F(SessionsKeysTest, RefusedKeysSayWhy) {
  ASSERT_NO_FATAL_FAILURE(StartWithBob());
  CommandResult small = AsBob({"keys", "add", MakeKey("rsa1k", "rsa", "1024", "x")});
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_EQ(small.err,
            "portcullis: RSA key of 1024 bits refused: at least 2048 bits (ssh-keygen -t ed25519 "
            "is better)\n");
  const std::string ed = MakeKey("cert_me", "ed25519", "", "x");
  CommandResult priv = AsBob({"keys", "add", ed.substr(0, ed.size() - 4)});  // the private key
  EXPECT_EQ(priv.exit_code, 1);
  EXPECT_EQ(priv.err, "portcullis: " + ed.substr(0, ed.size() - 4) +
                          " holds a private key: give the public key (the .pub file)\n");
  CommandResult missing = AsBob({"keys", "add", broker().Join("nope.pub")});
  EXPECT_EQ(missing.exit_code, 1);
  CommandResult empty = AsBob({"keys", "add", "-"}, "");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_EQ(empty.err, "portcullis: empty public key line\n");
  EXPECT_EQ(Json(AsBob({"keys", "ls", "--json"})).size(), 0u);
}

TEST_F(SessionsKeysTest, OtherUsersKeysNeedAdminAndGoWithTheUser) {
  ASSERT_NO_FATAL_FAILURE(StartWithBob());
  const std::string bob_key = MakeKey("bob_ed", "ed25519", "", "bob");
  const std::string alice_key = MakeKey("alice_ed", "ed25519", "", "alice");
  const std::string fp = SshKeygenFingerprint(bob_key);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"keys", "add", "--user", "alice", alice_key},
           {"keys", "ls", "--user", "alice"},
           {"keys", "rm", fp, "--user", "alice"},
           {"keys", "ls", "--user", "nobody"}}) {
    CommandResult r = AsBob(args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_EQ(r.err, "portcullis: managing another user's keys needs the admin role\n");
  }
  // `--user` naming oneself is fine.
  ASSERT_EQ(AsBob({"keys", "add", "--user", "bob", bob_key}).exit_code, 0);

  // The admin manages bob's keys.
  auto keys = Json(Admin({"keys", "ls", "--user", "bob", "--json"}));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["fingerprint"], fp);
  EXPECT_EQ(keys[0]["user"], "bob");
  CommandResult add = Admin({"keys", "add", "--user", "bob", alice_key});
  ASSERT_EQ(add.exit_code, 0) << Describe(add);
  EXPECT_EQ(CountAudit("key.add", "alice", "bob"), 1);
  CommandResult nobody = Admin({"keys", "ls", "--user", "nobody"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_EQ(nobody.err, "portcullis: user nobody not found\n");

  // Deleting bob deletes his keys; a new bob starts with none.
  CommandResult rm = Admin({"users", "rm", "bob"});
  ASSERT_EQ(rm.exit_code, 0) << Describe(rm);
  ASSERT_TRUE(broker().AddUser("bob", kBobPassword, {}).ok());
  EXPECT_EQ(Json(Admin({"keys", "ls", "--user", "bob", "--json"})).size(), 0u);
  // The audit row of the deletion counts the sessions it ended.
  auto rows = Json(Admin({"audit", "ls", "--json", "--type", "admin.user_delete"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["details"]["sessions_ended"], 0);
}

}  // namespace
}  // namespace portcullis::testing
