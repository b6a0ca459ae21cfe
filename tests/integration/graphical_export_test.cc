// `portcullis recordings export ID --format mp4|webm|png` through a real
// portcullisd: a graphical recording written by the real GraphicalWriter
// and put in the catalogue as the VNC path leaves it; the CLI fetches it
// (an audited export read, reviewers only), checks it against the sealed
// SHA-256 and encodes it locally; ffprobe reads the video.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "broker/common/files.h"
#include "tests/integration/broker_fixture.h"
#include "tests/recorder/export/decode_util.h"
#include "tests/recorder/export/synthetic_recording.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";
constexpr char kCarolPassword[] = "carol-auditor-pw-42-long";

class GraphicalExportTest : public BrokerTest {
 protected:
  void SetUpAll() {
    ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
    auto bob = broker().AddUser("bob", kBobPassword, {});
    ASSERT_TRUE(bob.ok()) << bob.status();
    CommandResult login = broker().Login(broker().Home("bob"), "bob", kBobPassword, TotpCode(*bob));
    ASSERT_EQ(login.exit_code, 0) << Describe(login);
    auto carol = broker().AddUser("carol", kCarolPassword, {"auditor"});
    ASSERT_TRUE(carol.ok()) << carol.status();
    login = broker().Login(broker().Home("carol"), "carol", kCarolPassword, TotpCode(*carol));
    ASSERT_EQ(login.exit_code, 0) << Describe(login);

    // A 10 s VNC session of bob's, recorded into the broker's recordings
    // directory and catalogued as complete with its real size and hash.
    SyntheticOptions o;
    o.duration_micros = 10'000'000;
    o.step_micros = 500'000;
    SyntheticSource source(o);
    auto path = RecordSynthetic(source, broker().data_dir() + "/recordings", "sessvnc");
    ASSERT_TRUE(path.ok()) << path.status();
    pgr_ = *path;
    auto bytes = ReadWholeFile(pgr_);
    ASSERT_TRUE(bytes.ok());
    sha_ = RunCommand({"sha256sum", pgr_}).out.substr(0, 64);
    const std::string rel = pgr_.substr(broker().data_dir().size() + std::string("/recordings/").size());
    CommandResult r = Sql(fmt::format(
        "INSERT INTO recordings(id, session_id, channel, user, login, target, protocol, source, "
        "path, started_us, ended_us, size, sha256, state, end_reason) VALUES ('sessvnc.0', 'sessvnc', 0, "
        "'bob', 'operator', 'hmi-07', 'vnc', '127.0.0.1:50900', '{}', {}, {}, {}, '{}', "
        "'complete', 'client-closed')",
        rel, int64_t{1'795'424'400} * 1'000'000, int64_t{1'795'424'410} * 1'000'000, bytes->size(), sha_));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  CommandResult Sql(const std::string& sql) {
    return RunCommand({"sqlite3", "-cmd", ".timeout 5000", broker().db_path(), sql});
  }
  CommandResult As(const std::string& who, const std::vector<std::string>& args) {
    return broker().Cli(broker().Home(who), args);
  }

  std::string pgr_, sha_;
};

TEST_F(GraphicalExportTest, ReviewersExportVideoAndPngThroughTheBroker) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  const std::string mp4 = broker().Join("s.mp4");
  CommandResult denied = As("bob", {"recordings", "export", "sessvnc.0", "--format", "mp4", "-o", mp4});
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  EXPECT_THAT(denied.err, HasSubstr("auditor or admin"));
  EXPECT_FALSE(PathExists(mp4));

  CommandResult exp = As("carol", {"recordings", "export", "sessvnc.0", "--format", "mp4", "-o", mp4});
  ASSERT_EQ(exp.exit_code, 0) << Describe(exp);
  EXPECT_THAT(exp.out, HasSubstr("exported sessvnc.0 to " + mp4));
  EXPECT_EQ(FileMode(mp4), 0600);
  CommandResult probe = RunCommand({"ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", mp4});
  ASSERT_EQ(probe.exit_code, 0) << Describe(probe);
  auto j = nlohmann::json::parse(probe.out);
  EXPECT_EQ(j["streams"][0]["codec_name"], "h264");
  EXPECT_NEAR(std::stod(j["format"]["duration"].get<std::string>()), 10.0, 0.07);
  EXPECT_EQ(j["format"]["tags"]["portcullis_recording_id"], "sessvnc.0");
  EXPECT_EQ(j["format"]["tags"]["portcullis_recording_sha256"], sha_);

  const std::string png = broker().Join("at.png");
  CommandResult at = As("carol", {"recordings", "export", "sessvnc.0", "--format", "png", "--at", "4.2", "-o", png});
  ASSERT_EQ(at.exit_code, 0) << Describe(at);
  auto pic = DecodePng(*ReadWholeFile(png));
  ASSERT_TRUE(pic.ok()) << pic.status();
  SyntheticOptions o;
  o.duration_micros = 10'000'000;
  o.step_micros = 500'000;
  SyntheticSource source(o);
  std::vector<uint8_t> want;
  recorder::VideoFrame f = source.Picture(4'000'000, &want);
  EXPECT_EQ(Psnr(*pic, f.bgra, f.stride, f.width, f.height), std::numeric_limits<double>::infinity());

  // Bytes that are not the sealed ones are refused, and nothing is written.
  ASSERT_EQ(Sql("UPDATE recordings SET sha256 = '" + std::string(64, 'a') + "' WHERE id = 'sessvnc.0'").exit_code, 0);
  const std::string webm = broker().Join("s.webm");
  CommandResult bad = As("carol", {"recordings", "export", "sessvnc.0", "--format", "webm", "-o", webm});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_THAT(bad.err, HasSubstr("does not match its sealed SHA-256"));
  EXPECT_FALSE(PathExists(webm));

  CommandResult events = Admin({"audit", "ls", "--type", "recording.export", "--json"});
  ASSERT_EQ(events.exit_code, 0) << Describe(events);
  auto ev = nlohmann::json::parse(events.out);
  ASSERT_EQ(ev.size(), 3u) << ev.dump();
  for (const auto& e : ev) {
    EXPECT_EQ(e["actor"], "carol");
    EXPECT_EQ(e["subject"], "sessvnc.0");
  }
}

}  // namespace
}  // namespace portcullis::testing
