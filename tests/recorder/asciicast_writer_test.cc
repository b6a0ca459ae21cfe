#include "recorder/asciicast_writer.h"

#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "recorder/asciicast_factory.h"
#include "recorder/asciicast_format.h"
#include "recorder/utf8_json.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;
using session::RecordingInfo;
using session::TerminalRecorder;

const std::string kFffd(kReplacementChar);

constexpr char kHeader[] =
    R"({"version":2,"width":80,"height":24,"timestamp":1700000000,)"
    R"("title":"bob: maint@rtu-01","env":{"TERM":"xterm-256color"},)"
    R"("portcullis":{"session_id":"a1b2c3d4e5f6","channel":0,"user":"bob","login":"maint",)"
    R"("target":"rtu-01","protocol":"ssh","source":"127.0.0.1:50022","command":"",)"
    R"("record_input":false,"started":"2023-11-14T22:13:20.000000Z"}})"
    "\n";

class AsciicastWriterTest : public ::testing::Test {
 protected:
  AsciicastWriterTest() : clock_(1'700'000'000) {
    AsciicastFactoryOptions opts;
    opts.dir = dir_.path();
    opts.min_free_bytes = 0;
    opts.signer = &signer_;
    factory_ = std::make_unique<AsciicastFactory>(opts, &clock_);
  }

  RecordingInfo Info() {
    RecordingInfo info;
    info.session_id = "a1b2c3d4e5f6";
    info.user = "bob";
    info.login = "maint";
    info.target = "rtu-01";
    info.protocol = "ssh";
    info.source = "127.0.0.1:50022";
    info.term = "xterm-256color";
    info.started = clock_.Now();
    return info;
  }

  std::unique_ptr<TerminalRecorder> Open(const RecordingInfo& info) {
    auto rec = factory_->OpenTerminal(info);
    EXPECT_TRUE(rec.ok()) << rec.status();
    path_ = factory_->PathFor(info, info.started);
    return rec.ok() ? std::move(*rec) : nullptr;
  }

  std::string Contents() {
    auto data = testing::ReadWholeFile(path_);
    EXPECT_TRUE(data.ok()) << data.status();
    return data.ok() ? *data : "";
  }

  testing::TempDir dir_{"pc-rec"};
  testing::TestSigner signer_;
  FakeClock clock_;
  std::unique_ptr<AsciicastFactory> factory_;
  std::string path_;
};

TEST_F(AsciicastWriterTest, ByteExactEventLines) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  clock_.Advance(250ms);
  rec->Output("login: \x1b[1mmaint\x1b[0m\r\n");
  clock_.Advance(750001us);
  rec->Resize(120, 40);
  clock_.Advance(2s);
  rec->Marker("upload \"/tmp/fw.bin\" 1024 bytes");
  rec->Output("$ ");
  clock_.Advance(61s);
  ASSERT_TRUE(rec->Health().ok());
  ASSERT_TRUE(rec->Close("client closed").ok());
  EXPECT_EQ(Contents(), std::string(kHeader) +
                            R"([0.250000, "o", "login: \u001b[1mmaint\u001b[0m\r\n"])" "\n"
                            R"([1.000001, "r", "120x40"])" "\n"
                            R"([3.000001, "m", "upload \"/tmp/fw.bin\" 1024 bytes"])" "\n"
                            R"([3.000001, "o", "$ "])" "\n"
                            R"([64.000001, "m", "end: client closed"])" "\n");
}

TEST_F(AsciicastWriterTest, InputIsDroppedUnlessRecordInput) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  rec->Input("secret-ish typing\r");
  rec->Output("ok");
  ASSERT_TRUE(rec->Close("client closed").ok());
  std::string text = Contents();
  EXPECT_EQ(text.find("typing"), std::string::npos);
  EXPECT_EQ(testing::EventData(text, "i"), "");
  EXPECT_EQ(testing::EventData(text, "o"), "ok");
}

TEST_F(AsciicastWriterTest, InputIsRecordedWithRecordInput) {
  RecordingInfo info = Info();
  info.record_input = true;
  auto rec = Open(info);
  ASSERT_NE(rec, nullptr);
  clock_.Advance(1500ms);
  rec->Input("ls -l\r");
  ASSERT_TRUE(rec->Close("client closed").ok());
  auto lines = testing::SplitLines(Contents());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(R"("record_input":true)"), std::string::npos);
  EXPECT_EQ(lines[1], R"([1.500000, "i", "ls -l\r"])");
}

TEST_F(AsciicastWriterTest, SplitUtf8AcrossOutputCalls) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  clock_.Advance(1s);
  rec->Output("price: \xe2\x82");  // first two bytes of U+20AC
  clock_.Advance(1s);
  rec->Output("\xac" "5\r\n");
  clock_.Advance(1s);
  rec->Output("\xf0");  // only a lead byte: no event yet
  rec->Output("\x9f\x98\x80");
  ASSERT_TRUE(rec->Close("target closed").ok());
  auto lines = testing::SplitLines(Contents());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1], R"([1.000000, "o", "price: "])");
  EXPECT_EQ(lines[2], "[2.000000, \"o\", \"\xe2\x82\xac" "5\\r\\n\"]");
  EXPECT_EQ(lines[3], "[3.000000, \"o\", \"\xf0\x9f\x98\x80\"]");
  EXPECT_EQ(lines[4], R"([3.000000, "m", "end: target closed"])");
}

TEST_F(AsciicastWriterTest, InvalidBytesBecomeReplacementCharacter) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  rec->Output("a\xff\xfe" "b\xc3");
  rec->Output("(");  // the carried \xc3 is not continued
  rec->Output("end\xe2\x82");  // still incomplete at Close
  rec->Marker(std::string("bad \x80 label", 11));
  ASSERT_TRUE(rec->Close("client closed").ok());
  std::string text = Contents();
  EXPECT_EQ(testing::EventData(text, "o"), "a" + kFffd + kFffd + "b" + kFffd + "(end" + kFffd);
  EXPECT_EQ(testing::EventData(text, "m"), "bad " + kFffd + " labelend: client closed");
}

TEST_F(AsciicastWriterTest, ExecHeaderCarriesTheCommand) {
  RecordingInfo info = Info();
  info.command = "uname -a; exit 3";
  info.channel = 2;
  auto rec = Open(info);
  ASSERT_NE(rec, nullptr);
  ASSERT_TRUE(rec->Close("exit-status 3").ok());
  auto lines = testing::ParseCastLines(Contents());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0]["command"], "uname -a; exit 3");
  EXPECT_EQ(lines[0]["title"], "bob: maint@rtu-01: uname -a; exit 3");
  EXPECT_EQ(lines[0]["portcullis"]["channel"], 2);
  EXPECT_EQ(lines[0]["portcullis"]["command"], "uname -a; exit 3");
  EXPECT_NE(path_.find("/2023/11/14/a1b2c3d4e5f6.2.cast"), std::string::npos) << path_;
}

TEST(AsciicastFormatTest, HeaderSurvivesInvalidUtf8Metadata) {
  RecordingInfo info;
  info.session_id = "x";
  info.command = "cat \xff\xfe";
  std::string line;
  ASSERT_NO_THROW(line = HeaderLine(info, FromUnix(1'700'000'000)));
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["command"], "cat " + kFffd + kFffd);
  EXPECT_EQ(line.back(), '\n');
}

TEST_F(AsciicastWriterTest, TimeNeverGoesBackwards) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  clock_.Advance(5s);
  rec->Output("a");
  clock_.SetUnix(1'699'999'000);  // the system clock is stepped back
  rec->Output("b");
  ASSERT_TRUE(rec->Close("client closed").ok());
  auto lines = testing::SplitLines(Contents());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], R"([5.000000, "o", "a"])");
  EXPECT_EQ(lines[2], R"([5.000000, "o", "b"])");
}

TEST_F(AsciicastWriterTest, CloseIsIdempotentAndLaterEventsAreDropped) {
  auto rec = Open(Info());
  ASSERT_NE(rec, nullptr);
  rec->Output("x");
  ASSERT_TRUE(rec->Close("killed").ok());
  std::string before = Contents();
  rec->Output("after close");
  rec->Marker("after close");
  EXPECT_TRUE(rec->Close("again").ok());
  EXPECT_EQ(Contents(), before);
  EXPECT_EQ(before.find("again"), std::string::npos);
}

TEST_F(AsciicastWriterTest, DestroyedWithoutCloseStillEndsTheFile) {
  {
    auto rec = Open(Info());
    ASSERT_NE(rec, nullptr);
    rec->Output("x");
  }
  auto lines = testing::SplitLines(Contents());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], R"([0.000000, "m", "end: aborted"])");
}

// One 10 MB burst is more than a 64 KiB buffer may hold: the recording fails
// (closed) instead of growing or blocking.
TEST_F(AsciicastWriterTest, BurstOverBufferCapTurnsHealthNonOk) {
  AsciicastFactoryOptions opts;
  opts.dir = dir_.path();
  opts.min_free_bytes = 0;
  opts.buffer_cap = 64 << 10;
  opts.signer = &signer_;
  AsciicastFactory small(opts, &clock_);
  RecordingInfo info = Info();
  auto rec = small.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  (*rec)->Output("before");
  (*rec)->Output(std::string(10 << 20, 'x'));
  absl::Status health = (*rec)->Health();
  EXPECT_EQ(health.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(health.message()).find("recording: buffer of 65536 bytes full writing " +
                                               small.PathFor(info, info.started)),
            std::string::npos)
      << health;
  (*rec)->Output("after");  // dropped
  absl::Status closed = (*rec)->Close("recording failed");
  EXPECT_EQ(closed.code(), absl::StatusCode::kResourceExhausted);
  path_ = small.PathFor(info, info.started);
  std::string text = Contents();
  EXPECT_EQ(testing::EventData(text, "o"), "before");  // a clean prefix
}

// A writer stalled by a slow sink (a pipe nobody reads): many small events
// fill the buffer, Output() never blocks, and the recording fails closed.
TEST(AsciicastWriterStallTest, StalledDiskFailsClosedWithoutBlocking) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FakeClock clock;
  auto pool = std::make_shared<WriterPool>();
  BufferedFileOptions opts;
  opts.buffer_cap = 256 << 10;
  RecordingInfo info;
  info.session_id = "stall";
  AsciicastWriter rec(info, clock.Now(), &clock, pool, fds[1], "/slow/disk.cast", std::move(opts));
  const std::string chunk(4096, 'y');
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2560 && rec.Health().ok(); ++i) rec.Output(chunk);  // up to 10 MiB
  auto took = std::chrono::steady_clock::now() - t0;
  absl::Status health = rec.Health();
  ASSERT_EQ(health.code(), absl::StatusCode::kResourceExhausted) << health;
  EXPECT_NE(std::string(health.message()).find("/slow/disk.cast"), std::string::npos);
  EXPECT_LT(took, 5s);
  EXPECT_GT(rec.Backlog(), 64u << 10);
  for (int i = 0; i < 1000; ++i) rec.Output(chunk);  // dropped, cheaply

  // Unstall: read everything; Close writes the buffered prefix and returns
  // the failure.
  std::string drained;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) drained.append(buf, static_cast<size_t>(n));
  });
  absl::Status closed = rec.Close("recording failed");
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(closed.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(rec.Backlog(), 0u);
  auto lines = testing::ParseCastLines(drained);  // every line complete JSON
  ASSERT_GT(lines.size(), 1u);
  EXPECT_EQ(lines[0]["version"], 2);
}

// A relay that pauses while Backlog() is high never hits the bound, however
// slow the sink: the slow disk becomes backpressure, not a failure.
TEST(AsciicastWriterStallTest, BacklogLetsTheCallerApplyBackpressure) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FakeClock clock;
  constexpr size_t kCap = 128 << 10;
  BufferedFileOptions opts;
  opts.buffer_cap = kCap;
  RecordingInfo info;
  info.session_id = "paced";
  AsciicastWriter rec(info, clock.Now(), &clock, std::make_shared<WriterPool>(), fds[1],
                      "/slow.cast", std::move(opts));
  std::string drained;
  std::thread reader([&] {  // a slow disk: 16 KiB per millisecond at most
    char buf[16 << 10];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
      drained.append(buf, static_cast<size_t>(n));
      std::this_thread::sleep_for(1ms);
    }
  });
  std::string want;
  for (int i = 0; i < 512; ++i) {  // 2 MiB, 16x the bound
    std::string chunk = fmt::format("{:04} {}\r\n", i, std::string(4090, 'p'));
    while (rec.Backlog() > kCap / 2) std::this_thread::sleep_for(200us);
    rec.Output(chunk);
    want += chunk;
  }
  EXPECT_TRUE(rec.Health().ok()) << rec.Health();
  EXPECT_TRUE(rec.Close("client closed").ok());
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(testing::EventData(drained, "o"), want);
}

}  // namespace
}  // namespace portcullis::recorder
