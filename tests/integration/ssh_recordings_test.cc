// Recordings of real SSH sessions as evidence: a session through the broker
// is catalogued, sealed with the recording key, listed, replayed, exported
// with its seal and verified VALID both by the broker and offline with the
// key from `ca export --recording`; an edited byte is INVALID; search finds
// what the session printed; a broker killed mid-session leaves a TRUNCATED
// recording whose signed prefix still verifies.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "broker/common/files.h"
#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class SshRecordingsTest : public SshTest {
 protected:
  // The catalogue row of `user`'s recording once it is in `state`
  // (waiting up to 10 s: the session ends just after the client exits).
  nlohmann::json WaitForRecording(const std::string& user, const std::string& state) {
    nlohmann::json last;
    for (int i = 0; i < 100; ++i) {
      CommandResult ls = Admin({"recordings", "ls", "--json", "--user", user});
      auto j = nlohmann::json::parse(ls.out, nullptr, false);
      if (j.is_array() && !j.empty()) {
        last = j[0];
        if (last["state"] == state) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no " << state << " recording of " << user << "; last: " << last.dump();
    return nlohmann::json();
  }
  std::string RecordingKeyFile() {
    CommandResult pem = Admin({"ca", "export", "--recording"});
    EXPECT_EQ(pem.exit_code, 0) << Describe(pem);
    const std::string path = broker().Join("recording.pem");
    EXPECT_TRUE(WriteWholeFile(path, pem.out).ok());
    return path;
  }
};

TEST_F(SshRecordingsTest, ASessionIsCataloguedSealedExportedAndVerified) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  CommandResult r = Ssh(u, u.name + ":rtu-01", {"echo hello; echo systemctl-stop-marker"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json rec = WaitForRecording(u.name, "complete");
  ASSERT_FALSE(rec.is_null());
  const std::string id = rec["id"];
  EXPECT_EQ(rec["target"], "rtu-01");
  EXPECT_EQ(rec["login"], login());
  EXPECT_EQ(rec["protocol"], "ssh");
  EXPECT_EQ(rec["command"], "echo hello; echo systemctl-stop-marker");
  EXPECT_EQ(rec["sha256"].get<std::string>().size(), 64u);

  CommandResult verify = Admin({"recordings", "verify", id});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
  EXPECT_THAT(verify.out, StartsWith("VALID"));

  const std::string out = broker().Join("evidence.cast");
  CommandResult exp = Admin({"recordings", "export", id, "--format", "cast", "-o", out});
  ASSERT_EQ(exp.exit_code, 0) << Describe(exp);
  EXPECT_TRUE(PathExists(broker().Join("evidence.manifest.json")));
  EXPECT_TRUE(PathExists(broker().Join("evidence.manifest.sig")));
  const std::string key = RecordingKeyFile();
  // Offline: no login needed.
  CommandResult offline =
      broker().Cli(broker().Join("reviewer"), {"recordings", "verify", out, "--key", key});
  EXPECT_EQ(offline.exit_code, 0) << Describe(offline);
  EXPECT_THAT(offline.out, StartsWith("VALID"));
  // The admin's login saved the key: no --key needed there.
  CommandResult saved = Admin({"recordings", "verify", out});
  EXPECT_EQ(saved.exit_code, 0) << Describe(saved);

  // One edited byte: INVALID, exit 3.
  auto text = ReadWholeFile(out);
  ASSERT_TRUE(text.ok());
  const size_t at = text->find("systemctl-stop-marker");
  ASSERT_NE(at, std::string::npos);
  std::string edited = *text;
  edited[at] = 'S';
  ASSERT_TRUE(WriteWholeFile(out, edited, 0600).ok());
  CommandResult bad = broker().Cli(broker().Join("reviewer"), {"recordings", "verify", out, "--key", key});
  EXPECT_EQ(bad.exit_code, 3) << Describe(bad);
  EXPECT_THAT(bad.out, StartsWith("INVALID"));

  CommandResult search = Admin({"recordings", "search", "systemctl-stop-marker"});
  ASSERT_EQ(search.exit_code, 0) << Describe(search);
  EXPECT_THAT(search.out, HasSubstr(id + "  " + u.name + "  " + login() + "@rtu-01  00:00:0"));

  CommandResult play = Admin({"recordings", "play", id, "--speed", "50"});
  ASSERT_EQ(play.exit_code, 0) << Describe(play);
  EXPECT_THAT(play.out, HasSubstr("systemctl-stop-marker"));

  auto verified = AuditEvents("recording.verify");
  ASSERT_EQ(verified.size(), 1u);
  EXPECT_EQ(verified[0]["subject"], id);
  EXPECT_EQ(AuditEvents("recording.export").size(), 1u);
  EXPECT_EQ(AuditEvents("recording.search").size(), 1u);
  EXPECT_EQ(AuditEvents("recording.play").size(), 1u);
}

TEST_F(SshRecordingsTest, ABrokerKilledMidSessionLeavesATruncatedRecording) {
  ASSERT_NO_FATAL_FAILURE(StartAll({"recordings:\n  checkpoint_interval: 1s\n", {}, ""}));
  SshUser u = NewUser();
  auto ssh = PtyProcess::Start(
      SshArgv(u.name + ":rtu-01", {"echo started; for i in 1 2 3 4 5 6; do echo tick-$i; sleep 0.5; done; sleep 60"}),
      AskpassEnv(u));
  ASSERT_TRUE(ssh.ok()) << ssh.status();
  ASSERT_TRUE((*ssh)->ReadUntil("tick-6")) << (*ssh)->output();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a checkpoint after tick-6
  broker().Kill();
  (*ssh)->WaitExit(std::chrono::seconds(10));
  ASSERT_TRUE(broker().Start().ok());
  nlohmann::json rec = WaitForRecording(u.name, "truncated");
  ASSERT_FALSE(rec.is_null());
  CommandResult verify = Admin({"recordings", "verify", rec["id"]});
  EXPECT_EQ(verify.exit_code, 4) << Describe(verify);
  EXPECT_THAT(verify.out, StartsWith("TRUNCATED"));
  // The export carries the checkpoints instead of a manifest.
  const std::string out = broker().Join("cut.cast");
  CommandResult exp = Admin({"recordings", "export", rec["id"], "-o", out});
  ASSERT_EQ(exp.exit_code, 0) << Describe(exp);
  EXPECT_TRUE(PathExists(broker().Join("cut.seal")));
  EXPECT_FALSE(PathExists(broker().Join("cut.manifest.json")));
  CommandResult offline = broker().Cli(broker().Join("reviewer"),
                                       {"recordings", "verify", out, "--key", RecordingKeyFile()});
  EXPECT_EQ(offline.exit_code, 4) << Describe(offline);
  // Replay from 00:02 seeks to a checkpoint and still shows the later ticks.
  CommandResult play = Admin({"recordings", "play", rec["id"], "--from", "0:02", "--speed", "50"});
  ASSERT_EQ(play.exit_code, 0) << Describe(play);
  EXPECT_THAT(play.out, HasSubstr("tick-6"));
}

}  // namespace
}  // namespace portcullis::testing
