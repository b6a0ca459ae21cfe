// A graphical (VNC) recording through the real CLI and a real portcullisd:
// `recordings input` (the key and click log and the typed text; reviewers
// only, audited as an export), `recordings search` in typed text, and the
// same log from a local .pgr file. The recording is written by the real
// GraphicalWriter into the broker's recordings directory and put in the
// catalogue as the recorder leaves it (a row via sqlite3).
#include <fcntl.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "broker/common/files.h"
#include "recorder/graphical/graphical_format.h"
#include "recorder/graphical/graphical_writer.h"
#include "recorder/sealed_stream.h"
#include "tests/integration/broker_fixture.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kBobPassword[] = "bob-vendor-pw-42-long";
constexpr char kCarolPassword[] = "carol-auditor-pw-42-long";
constexpr char kRel[] = "2020/01/05/sessvnc1.0.pgr";

class GraphicalRecordingsTest : public BrokerTest {
 protected:
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
    ASSERT_NO_FATAL_FAILURE(WriteRecording());
  }

  std::string Home(const std::string& name) const { return broker_->Home(name); }
  CommandResult As(const std::string& who, const std::vector<std::string>& args) {
    return broker().Cli(Home(who), args);
  }
  std::string Path() const { return broker_->data_dir() + "/recordings/" + kRel; }

  // bob's VNC session: a screen, a click, "stop pumq<BackSpace>p" Return,
  // Control+S (a shortcut), a clipboard paste.
  void WriteRecording() {
    const std::string path = Path();
    ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/')), 0700).ok());
    FakeClock clock(1578218400);  // 2020-01-05T10:00:00Z
    session::RecordingInfo info;
    info.session_id = "sessvnc1";
    info.user = "bob";
    info.login = "operator";
    info.target = "hmi-02";
    info.protocol = "vnc";
    info.started = clock.Now();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    auto pool = std::make_shared<recorder::WriterPool>();
    recorder::BufferedFileOptions file;
    file.encoder = recorder::NewGraphicalEncoder();
    file.buffer_cap = recorder::GraphicalWriterOptions::kGraphicalBufferCap;
    recorder::GraphicalWriter rec(std::make_unique<recorder::SealedStream>(
        info, recorder::GraphicalFormat(), clock.Now(), &clock, pool, fd, path, std::move(file)));
    rec.Resize(320, 240);
    std::vector<uint8_t> px(320 * 240 * 4, 0x40);
    rec.Frame(0, 0, 320, 240, px.data(), 320 * 4);
    clock.Advance(2s);
    rec.Pointer(100, 200, 0);
    rec.Pointer(100, 200, 1);
    clock.Advance(100ms);
    rec.Pointer(100, 200, 0);
    for (char c : std::string("stop pumq")) {
      clock.Advance(200ms);
      rec.Key(static_cast<uint8_t>(c), true);
      rec.Key(static_cast<uint8_t>(c), false);
    }
    for (uint32_t ks : {0xff08u, uint32_t('p'), 0xff0du}) {
      clock.Advance(200ms);
      rec.Key(ks, true);
      rec.Key(ks, false);
    }
    rec.Key(0xffe3, true);
    rec.Key('s', true);
    rec.Key('s', false);
    rec.Key(0xffe3, false);
    clock.Advance(1s);
    rec.Clipboard("secret-clip-Hunter2", true);
    clock.Advance(1s);
    ASSERT_TRUE(rec.Close("client-closed").ok());
    const uint64_t size = ReadWholeFile(path).value_or("").size();
    const int64_t us = 1578218400LL * 1'000'000;
    CommandResult r = Sql(fmt::format(
        "INSERT INTO recordings(id, session_id, channel, user, login, target, protocol, source, "
        "path, started_us, ended_us, size, sha256, state, end_reason) VALUES ('sessvnc1.0', "
        "'sessvnc1', 0, 'bob', 'operator', 'hmi-02', 'vnc', '127.0.0.1:50000', '{}', {}, {}, {}, "
        "'{}', 'complete', 'client-closed')",
        kRel, us, us + 6'000'000, size, std::string(64, 'a')));
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  CommandResult Sql(const std::string& sql) {
    return RunCommand({"sqlite3", "-cmd", ".timeout 5000", broker().db_path(), sql});
  }
};

TEST_F(GraphicalRecordingsTest, InputLogIsForReviewersAuditedAndSearchable) {
  ASSERT_NO_FATAL_FAILURE(SetUpAll());
  CommandResult log = As("carol", {"recordings", "input", "sessvnc1.0"});
  ASSERT_EQ(log.exit_code, 0) << Describe(log);
  EXPECT_THAT(log.out, HasSubstr("00:00:02.000  press      left at 100,200\n"));
  EXPECT_THAT(log.out, HasSubstr("00:00:02.100  release    left at 100,200\n"));
  EXPECT_THAT(log.out, HasSubstr("00:00:02.300  key        s\n"));
  EXPECT_THAT(log.out, HasSubstr("key        BackSpace\n"));
  EXPECT_THAT(log.out, HasSubstr("key        Control_L\n"));
  EXPECT_THAT(log.out, HasSubstr("clipboard  to the target 19 bytes, sha256 "));
  EXPECT_THAT(log.out, HasSubstr("Typed text:\n  stop pump\n"));
  EXPECT_THAT(log.out, Not(HasSubstr("Hunter2")));

  CommandResult json = As("carol", {"recordings", "input", "sessvnc1.0", "--json"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  auto j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json.out;
  EXPECT_EQ(j["typed_lines"], nlohmann::json::array({"stop pump"}));
  EXPECT_EQ(j["events"][0]["type"], "button");

  // bob may see his recording listed, but not read its keystrokes.
  CommandResult denied = As("bob", {"recordings", "input", "sessvnc1.0"});
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  EXPECT_THAT(denied.err, HasSubstr("auditor or admin"));

  CommandResult hits = As("carol", {"recordings", "search", "stop pump"});
  ASSERT_EQ(hits.exit_code, 0) << Describe(hits);
  EXPECT_THAT(hits.out, HasSubstr("sessvnc1.0  bob  operator@hmi-02  00:00:04  "));
  EXPECT_THAT(hits.out, HasSubstr("(typed)"));

  auto events = nlohmann::json::parse(
      Admin({"audit", "ls", "--type", "recording.export", "--json"}).out, nullptr, false);
  ASSERT_TRUE(events.is_array());
  ASSERT_EQ(events.size(), 2u) << events.dump();  // carol's two reads; bob's was refused
  EXPECT_EQ(events[0]["actor"], "carol");

  // The same from the file, with no broker.
  CommandResult local = RunCommand({CliPath(), "recordings", "input", Path()});
  ASSERT_EQ(local.exit_code, 0) << Describe(local);
  EXPECT_EQ(local.out, log.out);
}

}  // namespace
}  // namespace portcullis::testing
