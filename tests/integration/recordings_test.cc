// Recordings as evidence through the real CLI and a real portcullisd: the
// recording public key (`ca export --recording`, saved at login), the
// catalogue (`recordings ls`), replay, export, verification, search, legal
// hold and retention (`recordings prune`), who may do which (a user, an
// auditor, an admin), and the audit events of each viewing.
//
// Recordings are put in the catalogue and the recordings directory as the
// recorders leave them (rows via sqlite3 behind the running broker, files
// on disk); recordings made by real SSH sessions are in ssh_recordings_test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "broker/common/files.h"
#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";
constexpr char kCarolPassword[] = "carol-auditor-pw-42-long";
constexpr char kCast[] =
    R"({"version": 2, "width": 80, "height": 24, "timestamp": 1577872800, "env": {"TERM": "xterm"}})"
    "\n"
    "[0.100000, \"o\", \"hello\\r\\n\"]\n"
    "[1.250000, \"o\", \"$ systemctl stop pump\\r\\n\"]\n"
    "[2.000000, \"o\", \"stopped\\r\\n\"]\n";

class RecordingsTest : public BrokerTest {
 protected:
  // Broker + admin; bob (no roles) and carol (auditor) logged in; two
  // recordings of bob (2020-01-01 and 2020-01-02, rtu-01) and one of dave
  // (2020-01-03, plc-09), all complete, all long past the default
  // retention of 365 days.
  void SetUpAll() {
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
    auto bob = broker().AddUser("bob", kBobPassword, {});
    ASSERT_TRUE(bob.ok()) << bob.status();
    CommandResult login = broker().Login(Home("bob"), "bob", kBobPassword, TotpCode(*bob));
    ASSERT_EQ(login.exit_code, 0) << Describe(login);
    auto carol = broker().AddUser("carol", kCarolPassword, {"auditor"});
    ASSERT_TRUE(carol.ok()) << carol.status();
    login = broker().Login(Home("carol"), "carol", kCarolPassword, TotpCode(*carol));
    ASSERT_EQ(login.exit_code, 0) << Describe(login);
    ASSERT_NO_FATAL_FAILURE(AddRecording("sessbob1", "bob", "rtu-01", "2020-01-01", 1577872800));
    ASSERT_NO_FATAL_FAILURE(AddRecording("sessbob2", "bob", "rtu-01", "2020-01-02", 1577959200));
    ASSERT_NO_FATAL_FAILURE(AddRecording("sessdave", "dave", "plc-09", "2020-01-03", 1578045600));
  }

  std::string Home(const std::string& name) const { return broker_->Home(name); }
  CommandResult As(const std::string& who, const std::vector<std::string>& args) {
    return broker().Cli(Home(who), args);
  }

  // A complete recording "<session>.0" with its .cast and a manifest and
  // signature stand-in (not a valid seal).
  void AddRecording(const std::string& session, const std::string& user, const std::string& target,
                    const std::string& day, int64_t started_unix) {
    const std::string rel =
        fmt::format("{}/{}/{}/{}.0.cast", day.substr(0, 4), day.substr(5, 2), day.substr(8, 2), session);
    const std::string dir = broker().data_dir() + "/recordings/" + rel.substr(0, rel.rfind('/'));
    ASSERT_TRUE(MakeDirs(dir, 0700).ok());
    const std::string path = broker().data_dir() + "/recordings/" + rel;
    ASSERT_TRUE(WriteWholeFile(path, kCast, 0600).ok());
    const std::string base = path.substr(0, path.size() - 5);
    ASSERT_TRUE(WriteWholeFile(base + ".manifest.json", "{}", 0600).ok());
    ASSERT_TRUE(WriteWholeFile(base + ".manifest.sig", std::string(64, 's'), 0600).ok());
    const int64_t us = started_unix * 1'000'000;
    CommandResult r = Sql(fmt::format(
        "INSERT INTO recordings(id, session_id, channel, user, login, target, protocol, source, "
        "path, started_us, ended_us, size, sha256, state, end_reason) VALUES ('{0}.0', '{0}', 0, "
        "'{1}', 'maint', '{2}', 'ssh', '127.0.0.1:50000', '{3}', {4}, {5}, {6}, '{7}', "
        "'complete', 'client-closed')",
        session, user, target, rel, us, us + 2'000'000, std::string(kCast).size(),
        std::string(64, 'a')));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  CommandResult Sql(const std::string& sql) {
    return RunCommand({"sqlite3", "-cmd", ".timeout 5000", broker().db_path(), sql});
  }
  std::string CastPath(const std::string& session, const std::string& day) {
    return fmt::format("{}/recordings/{}/{}/{}/{}.0.cast", broker().data_dir(), day.substr(0, 4),
                       day.substr(5, 2), day.substr(8, 2), session);
  }

  nlohmann::json Json(const CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out;
    return j.is_array() ? j : nlohmann::json::array();
  }
  static std::vector<std::string> Ids(const nlohmann::json& list) {
    std::vector<std::string> out;
    for (const auto& r : list) out.push_back(r.value("id", ""));
    return out;
  }
  // Audit events of types starting with `prefix`.
  nlohmann::json Events(const std::string& prefix) {
    return Json(Admin({"audit", "ls", "--type", prefix, "--json"}));
  }
};

TEST_F(RecordingsTest, CaExportGivesAPemOpensslReadsAndLoginSavesIt) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  CommandResult pem = As("bob", {"ca", "export", "--recording"});
  ASSERT_EQ(pem.exit_code, 0) << Describe(pem);
  EXPECT_THAT(pem.out, StartsWith("-----BEGIN PUBLIC KEY-----"));
  const std::string file = broker().Join("recording.pem");
  ASSERT_TRUE(WriteWholeFile(file, pem.out).ok());
  CommandResult openssl = RunCommand({"openssl", "pkey", "-pubin", "-in", file, "-noout", "-text"});
  ASSERT_EQ(openssl.exit_code, 0) << Describe(openssl);
  EXPECT_THAT(openssl.out, HasSubstr("ED25519"));
  auto saved = ReadWholeFile(Home("bob") + "/recording-key.pem");
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(*saved, pem.out);
  EXPECT_EQ(FileMode(Home("bob") + "/recording-key.pem"), 0600);
  CommandResult usage = As("bob", {"ca", "export"});
  EXPECT_EQ(usage.exit_code, 2) << Describe(usage);
  EXPECT_THAT(usage.err, HasSubstr("--recording"));
}

TEST_F(RecordingsTest, LsShowsUsersTheirOwnAndReviewersAll) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  auto mine = Json(As("bob", {"recordings", "ls", "--json"}));
  EXPECT_EQ(Ids(mine), (std::vector<std::string>{"sessbob2.0", "sessbob1.0"}));  // newest first
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[1]["user"], "bob");
  EXPECT_EQ(mine[1]["login"], "maint");
  EXPECT_EQ(mine[1]["target"], "rtu-01");
  EXPECT_EQ(mine[1]["protocol"], "ssh");
  EXPECT_EQ(mine[1]["state"], "complete");
  EXPECT_EQ(mine[1]["duration_seconds"], 2.0);
  EXPECT_EQ(mine[1]["started"], "2020-01-01T10:00:00.000000Z");
  EXPECT_EQ(mine[1]["legal_hold"], false);
  EXPECT_EQ(Ids(Json(As("carol", {"recordings", "ls", "--json"}))).size(), 3u);
  EXPECT_EQ(Ids(Json(Admin({"recordings", "ls", "--json", "--target", "plc-09"}))),
            std::vector<std::string>{"sessdave.0"});
  EXPECT_EQ(Ids(Json(Admin({"recordings", "ls", "--json", "--since", "2020-01-02"}))).size(), 2u);
  CommandResult other = As("bob", {"recordings", "ls", "--user", "dave"});
  EXPECT_EQ(other.exit_code, 1) << Describe(other);
  EXPECT_THAT(other.err, HasSubstr("only admins and auditors"));

  CommandResult table = As("carol", {"recordings", "ls"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("ID"));
  EXPECT_THAT(table.out, HasSubstr("maint@plc-09"));
  EXPECT_THAT(table.out, HasSubstr("00:00:02"));
  EXPECT_THAT(table.out, HasSubstr("complete"));
}

TEST_F(RecordingsTest, PlayExportAndVerifyAreAuditedAndLimited) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  CommandResult play = As("bob", {"recordings", "play", "sessbob1.0", "--speed", "100"});
  ASSERT_EQ(play.exit_code, 0) << Describe(play);
  EXPECT_EQ(play.out, "hello\r\n$ systemctl stop pump\r\nstopped\r\n");
  CommandResult foreign = As("bob", {"recordings", "play", "sessdave.0"});
  EXPECT_EQ(foreign.exit_code, 1) << Describe(foreign);
  EXPECT_THAT(foreign.err, HasSubstr("no recording sessdave.0"));

  // Export: auditors and admins only; files 0600; no overwrite without --force.
  const std::string out = broker().Join("evidence/bob1.cast");
  ASSERT_TRUE(MakeDirs(broker().Join("evidence"), 0700).ok());
  CommandResult denied = As("bob", {"recordings", "export", "sessbob1.0", "-o", out});
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  EXPECT_THAT(denied.err, HasSubstr("auditor or admin"));
  CommandResult exp = As("carol", {"recordings", "export", "sessbob1.0", "--format", "cast", "-o", out});
  ASSERT_EQ(exp.exit_code, 0) << Describe(exp);
  EXPECT_EQ(*ReadWholeFile(out), kCast);
  EXPECT_EQ(FileMode(out), 0600);
  EXPECT_EQ(*ReadWholeFile(broker().Join("evidence/bob1.manifest.json")), "{}");
  EXPECT_EQ(FileMode(broker().Join("evidence/bob1.manifest.sig")), 0600);
  CommandResult again = As("carol", {"recordings", "export", "sessbob1.0", "-o", out});
  EXPECT_EQ(again.exit_code, 1) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("--force"));
  CommandResult forced = As("carol", {"recordings", "export", "sessbob1.0", "-o", out, "--force"});
  EXPECT_EQ(forced.exit_code, 0) << Describe(forced);
  // A terminal recording is no video: refused after the stream's first
  // chunk names its protocol (the read itself is audited).
  CommandResult mp4 = As("carol", {"recordings", "export", "sessbob1.0", "--format", "mp4", "-o", out});
  EXPECT_EQ(mp4.exit_code, 2) << Describe(mp4);
  EXPECT_THAT(mp4.err, HasSubstr("terminal"));
  CommandResult no_ext = As("carol", {"recordings", "export", "sessbob1.0", "-o", out + ".txt"});
  EXPECT_EQ(no_ext.exit_code, 2) << Describe(no_ext);

  // The exported file plays locally, with no broker and no login.
  CommandResult local = broker().Cli(broker().Join("nobody"), {"recordings", "play", out, "--skip-idle"});
  ASSERT_EQ(local.exit_code, 0) << Describe(local);
  EXPECT_THAT(local.out, HasSubstr("systemctl stop pump"));

  // Verify through the broker: the stand-in manifest is no seal.
  CommandResult verify = As("bob", {"recordings", "verify", "sessbob1.0"});
  EXPECT_EQ(verify.exit_code, 3) << Describe(verify);
  EXPECT_THAT(verify.out, StartsWith("INVALID"));
  CommandResult key_for_id = As("bob", {"recordings", "verify", "sessbob1.0", "--key", "x.pem"});
  EXPECT_EQ(key_for_id.exit_code, 2) << Describe(key_for_id);
  // Offline with no key anywhere: a clear hint.
  CommandResult nokey = broker().Cli(broker().Join("nobody"), {"recordings", "verify", out});
  EXPECT_EQ(nokey.exit_code, 2) << Describe(nokey);
  EXPECT_THAT(nokey.err, HasSubstr("--key"));
  EXPECT_THAT(nokey.err, HasSubstr("ca export --recording"));

  auto plays = Events("recording.play");
  ASSERT_EQ(plays.size(), 1u) << plays.dump();
  EXPECT_EQ(plays[0]["actor"], "bob");
  EXPECT_EQ(plays[0]["subject"], "sessbob1.0");
  auto exports = Events("recording.export");
  ASSERT_EQ(exports.size(), 3u) << exports.dump();
  EXPECT_EQ(exports[0]["actor"], "carol");
  EXPECT_EQ(exports[0]["subject"], "sessbob1.0");
  auto verifies = Events("recording.verify");
  ASSERT_EQ(verifies.size(), 1u);
  EXPECT_EQ(verifies[0]["details"]["verdict"], "INVALID");
}

TEST_F(RecordingsTest, SearchIsForReviewersAndAudited) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  CommandResult denied = As("bob", {"recordings", "search", "systemctl stop"});
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  CommandResult hits = As("carol", {"recordings", "search", "systemctl stop", "--user", "bob"});
  ASSERT_EQ(hits.exit_code, 0) << Describe(hits);
  EXPECT_THAT(hits.out, HasSubstr("sessbob1.0  bob  maint@rtu-01  00:00:01  "));
  EXPECT_THAT(hits.out, HasSubstr("sessbob2.0  bob  maint@rtu-01  00:00:01  "));
  EXPECT_THAT(hits.out, Not(HasSubstr("sessdave")));
  auto events = Events("recording.search");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["actor"], "carol");
  EXPECT_EQ(events[0]["details"]["needle"], "systemctl stop");
  EXPECT_EQ(events[0]["details"]["recordings"].size(), 2u) << events[0].dump();
}

TEST_F(RecordingsTest, HoldAndPruneAreAdminOnlyAndRetentionKeepsHeld) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  CommandResult user_hold = As("bob", {"recordings", "hold", "sessbob1.0"});
  EXPECT_EQ(user_hold.exit_code, 1) << Describe(user_hold);
  EXPECT_THAT(user_hold.err, HasSubstr("admin"));
  CommandResult auditor_prune = As("carol", {"recordings", "prune"});
  EXPECT_EQ(auditor_prune.exit_code, 1) << Describe(auditor_prune);

  CommandResult hold = Admin({"recordings", "hold", "sessbob1.0"});
  ASSERT_EQ(hold.exit_code, 0) << Describe(hold);
  EXPECT_THAT(hold.out, HasSubstr("on legal hold"));
  CommandResult hold2 = Admin({"recordings", "--legal-hold", "sessdave.0"});
  ASSERT_EQ(hold2.exit_code, 0) << Describe(hold2);
  CommandResult release = Admin({"recordings", "hold", "sessdave.0", "--release"});
  ASSERT_EQ(release.exit_code, 0) << Describe(release);
  EXPECT_THAT(release.out, HasSubstr("released"));

  // Everything is years old: all but the held one go.
  CommandResult prune = Admin({"recordings", "prune"});
  ASSERT_EQ(prune.exit_code, 0) << Describe(prune);
  EXPECT_THAT(prune.out, HasSubstr("deleted sessbob2.0"));
  EXPECT_THAT(prune.out, HasSubstr("deleted sessdave.0"));
  EXPECT_THAT(prune.out, HasSubstr("2 recordings deleted (retention 365d)"));
  EXPECT_TRUE(PathExists(CastPath("sessbob1", "2020-01-01")));
  EXPECT_FALSE(PathExists(CastPath("sessbob2", "2020-01-02")));
  EXPECT_FALSE(PathExists(broker().data_dir() + "/recordings/2020/01/02"));  // empty day dir
  EXPECT_FALSE(PathExists(CastPath("sessdave", "2020-01-03")));

  auto all = Json(Admin({"recordings", "ls", "--all", "--json"}));
  ASSERT_EQ(all.size(), 3u);
  for (const auto& r : all) {
    EXPECT_EQ(r["state"], r["id"] == "sessbob1.0" ? "complete" : "deleted") << r.dump();
  }
  EXPECT_EQ(Ids(Json(Admin({"recordings", "ls", "--json"}))),
            std::vector<std::string>{"sessbob1.0"});
  CommandResult gone = As("carol", {"recordings", "play", "sessdave.0"});
  EXPECT_EQ(gone.exit_code, 1) << Describe(gone);
  EXPECT_THAT(gone.err, HasSubstr("deleted by retention"));

  auto deleted = Events("recording.deleted");
  ASSERT_EQ(deleted.size(), 2u) << deleted.dump();
  EXPECT_EQ(deleted[0]["actor"], "alice");
  std::vector<std::string> subjects = {deleted[0]["subject"], deleted[1]["subject"]};
  EXPECT_THAT(subjects, ::testing::UnorderedElementsAre("sessbob2.0", "sessdave.0"));
  EXPECT_THAT(deleted[0]["details"]["paths"].dump(), HasSubstr(".cast"));
  EXPECT_THAT(deleted[0]["details"]["paths"].dump(), HasSubstr(".manifest.json"));
  auto holds = Events("recording.hold");
  ASSERT_EQ(holds.size(), 3u);
  EXPECT_EQ(holds[0]["subject"], "sessbob1.0");
  EXPECT_EQ(holds[0]["details"]["hold"], true);
  EXPECT_EQ(holds[2]["details"]["hold"], false);
  EXPECT_EQ(Events("recording.prune").size(), 1u);
}

TEST_F(RecordingsTest, RetentionRunsPeriodicallyAndAtStart) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  // The maintenance pass runs at start: restart, and the old recordings go.
  ASSERT_TRUE(broker().Stop().ok());
  ASSERT_TRUE(broker().Start().ok());
  nlohmann::json deleted;
  for (int i = 0; i < 100; ++i) {  // the maintenance thread's first pass
    deleted = Events("recording.deleted");
    if (deleted.size() >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(deleted.size(), 3u) << deleted.dump();
  EXPECT_EQ(deleted[0]["actor"], "system");
  EXPECT_TRUE(Json(Admin({"recordings", "ls", "--json"})).empty());
}

TEST_F(RecordingsTest, ARecordingLeftOpenByAStoppedBrokerIsTruncated) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  ASSERT_TRUE(broker().Stop().ok());
  // Started 2031-05-04: younger than the retention period.
  const std::string rel = "2031/05/04/sesslive.0.cast";
  ASSERT_TRUE(MakeDirs(broker().data_dir() + "/recordings/2031/05/04", 0700).ok());
  ASSERT_TRUE(WriteWholeFile(broker().data_dir() + "/recordings/" + rel, kCast, 0600).ok());
  CommandResult r = Sql(fmt::format(
      "INSERT INTO recordings(id, session_id, channel, user, protocol, path, started_us) "
      "VALUES ('sesslive.0', 'sesslive', 0, 'alice', 'ssh', '{}', {})",
      rel, int64_t{1935619200} * 1'000'000));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_TRUE(broker().Start().ok());
  auto all = Json(Admin({"recordings", "ls", "--json"}));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["state"], "truncated");
  EXPECT_EQ(all[0]["size"], std::string(kCast).size());
  EXPECT_EQ(all[0]["end_reason"], "broker-stopped");
  auto events = Events("recording.truncated");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["subject"], "sesslive.0");
}

}  // namespace
}  // namespace portcullis::testing
