#include "recorder/asciicast_factory.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "recorder/utf8_json.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;
using session::RecordingInfo;

// Control characters, NUL, and JSON's special characters.
const char kControls[] = "nul:\x00 bell:\x07 del:\x7f tab:\t quote:\" backslash:\\\r\n";

RecordingInfo Info(std::string id, TimePoint started) {
  RecordingInfo info;
  info.session_id = std::move(id);
  info.user = "bob";
  info.login = "maint";
  info.target = "rtu-01";
  info.protocol = "ssh";
  info.source = "127.0.0.1:50022";
  info.started = started;
  return info;
}

testing::TestSigner* Signer() {
  static testing::TestSigner signer;
  return &signer;
}

AsciicastFactoryOptions Options(const std::string& dir) {
  AsciicastFactoryOptions opts;
  opts.dir = dir;
  opts.signer = Signer();
  opts.min_free_bytes = 0;
  return opts;
}

int Mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

TEST(AsciicastFactoryTest, LayoutAndModes) {
  testing::TempDir dir("pc-rec");
  FakeClock clock(1'795'424'400);  // 2026-11-23T09:00:00Z
  AsciicastFactory factory(Options(dir.Join("recordings")), &clock);
  ASSERT_TRUE(factory.Ready().ok());
  RecordingInfo info = Info("0123456789ab", TimePoint{});  // start = clock
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_TRUE((*rec)->Close("client closed").ok());
  const std::string path = dir.Join("recordings/2026/11/23/0123456789ab.0.cast");
  EXPECT_EQ(factory.PathFor(info, clock.Now()), path);
  EXPECT_EQ(Mode(path), 0600);
  EXPECT_EQ(Mode(dir.Join("recordings")), 0700);
  EXPECT_EQ(Mode(dir.Join("recordings/2026")), 0700);
  EXPECT_EQ(Mode(dir.Join("recordings/2026/11")), 0700);
  EXPECT_EQ(Mode(dir.Join("recordings/2026/11/23")), 0700);
}

TEST(AsciicastFactoryTest, NeverOverwritesARecording) {
  testing::TempDir dir("pc-rec");
  FakeClock clock;
  AsciicastFactory factory(Options(dir.path()), &clock);
  RecordingInfo info = Info("s1", clock.Now());
  auto first = factory.OpenTerminal(info);
  ASSERT_TRUE(first.ok()) << first.status();
  (*first)->Output("evidence");
  ASSERT_TRUE((*first)->Close("client closed").ok());
  auto before = testing::ReadWholeFile(factory.PathFor(info, info.started));
  ASSERT_TRUE(before.ok());

  auto second = factory.OpenTerminal(info);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(testing::ReadWholeFile(factory.PathFor(info, info.started)).value_or(""), *before);

  info.channel = 1;  // the next channel of the same session is a new file
  auto third = factory.OpenTerminal(info);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_TRUE((*third)->Close("client closed").ok());
}

TEST(AsciicastFactoryTest, RefusesSessionIdsThatAreNotPlainNames) {
  testing::TempDir dir("pc-rec");
  FakeClock clock;
  AsciicastFactory factory(Options(dir.path()), &clock);
  const std::vector<std::string> bad = {"", "../../etc/x", "a/b", "a b", std::string(65, 'a'),
                                        std::string("a\0b", 3)};
  for (const std::string& id : bad) {
    auto rec = factory.OpenTerminal(Info(id, clock.Now()));
    EXPECT_EQ(rec.status().code(), absl::StatusCode::kInvalidArgument) << id;
  }
  RecordingInfo info = Info("ok", clock.Now());
  info.channel = -1;
  EXPECT_EQ(factory.OpenTerminal(info).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AsciicastFactoryTest, ReadyRefusesBelowMinimumFreeSpace) {
  testing::TempDir dir("pc-rec");
  FakeClock clock;
  AsciicastFactoryOptions opts = Options(dir.path());
  opts.min_free_bytes = uint64_t{1} << 62;  // more than any disk
  AsciicastFactory factory(opts, &clock);
  absl::Status ready = factory.Ready();
  EXPECT_EQ(ready.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(ready.message()).find("below the minimum"), std::string::npos) << ready;
  EXPECT_EQ(factory.OpenTerminal(Info("s1", clock.Now())).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// A small tmpfs fills up under a session: the recording fails closed with
// "disk full", and the factory refuses new sessions.
TEST(AsciicastFactoryTest, FullFilesystem) {
  testing::TempDir dir("pc-rec-full");
  const std::string mnt = dir.Join("mnt");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (not root?): " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};

  FakeClock clock;
  AsciicastFactory factory(Options(mnt + "/recordings"), &clock);
  ASSERT_TRUE(factory.Ready().ok());
  RecordingInfo info = Info("full1", clock.Now());
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const std::string chunk(4096, 'z');
  for (int i = 0; i < 256; ++i) (*rec)->Output(chunk);  // 1 MiB into 256 KiB
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((*rec)->Health().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  absl::Status health = (*rec)->Health();
  EXPECT_EQ(health.code(), absl::StatusCode::kResourceExhausted);
  // Whichever file the full disk refuses first is named: the recording
  // itself (writer thread) or its seal (a checkpoint thread).
  const std::string cast_path = factory.PathFor(info, info.started);
  const std::string seal_path = cast_path.substr(0, cast_path.size() - 5) + ".seal";
  const std::string message(health.message());
  EXPECT_TRUE(message == "recording: disk full writing " + cast_path ||
              message == "recording: disk full writing " + seal_path)
      << message;
  (*rec)->Output("dropped");
  EXPECT_EQ((*rec)->Close("recording failed").code(), absl::StatusCode::kResourceExhausted);

  AsciicastFactoryOptions strict = Options(mnt + "/recordings");
  strict.min_free_bytes = 64 << 10;
  AsciicastFactory refusing(strict, &clock);
  EXPECT_EQ(refusing.Ready().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(refusing.OpenTerminal(Info("full2", clock.Now())).ok());
  AsciicastFactoryOptions default_opts;
  default_opts.dir = mnt + "/recordings";
  default_opts.signer = Signer();
  AsciicastFactory defaults(default_opts, &clock);
  EXPECT_FALSE(defaults.Ready().ok());  // 64 MiB minimum on a 256 KiB disk
}

// 50 sessions record at once from 50 threads through one factory: every
// file is complete, every line is JSON, nothing is lost or interleaved.
TEST(AsciicastFactoryTest, FiftyConcurrentRecorders) {
  testing::TempDir dir("pc-rec");
  FakeClock clock;
  AsciicastFactory factory(Options(dir.path()), &clock);
  constexpr int kSessions = 50;
  constexpr int kEvents = 400;
  auto expected = [](int s) {
    std::string out;
    for (int e = 0; e < kEvents; ++e) {
      out += fmt::format("session {} line {} \xe2\x82\xac \"q\" \\\r\n", s, e);
    }
    return out;
  };
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kSessions);
  for (int s = 0; s < kSessions; ++s) {
    threads.emplace_back([&, s] {
      auto rec = factory.OpenTerminal(Info(fmt::format("c{:02}", s), clock.Now()));
      if (!rec.ok()) {
        results[s] = rec.status();
        return;
      }
      std::string all = expected(s);
      // Uneven chunks so multi-byte characters are split across calls.
      for (size_t off = 0, n = 1; off < all.size(); off += n, n = n % 97 + 1) {
        (*rec)->Output(std::string_view(all).substr(off, n));
        if (off % 1000 == 0) (*rec)->Resize(80 + s, 24);
      }
      results[s] = (*rec)->Close("client closed");
    });
  }
  for (auto& t : threads) t.join();
  for (int s = 0; s < kSessions; ++s) {
    ASSERT_TRUE(results[s].ok()) << s << ": " << results[s];
    RecordingInfo info = Info(fmt::format("c{:02}", s), clock.Now());
    auto text = testing::ReadWholeFile(factory.PathFor(info, info.started));
    ASSERT_TRUE(text.ok());
    ASSERT_EQ(text->back(), '\n');
    EXPECT_EQ(testing::EventData(*text, "o"), expected(s)) << s;
    auto lines = testing::ParseCastLines(*text);
    EXPECT_EQ(lines.back()[2], "end: client closed");
    EXPECT_EQ(lines.front()["portcullis"]["session_id"], info.session_id);
  }
}

// The real asciinema reads our files: `asciinema cat` prints exactly the
// output bytes (invalid ones as U+FFFD), and `asciinema play` accepts the
// header with its extra "portcullis" object and plays the same bytes.
TEST(AsciicastFactoryTest, AsciinemaReproducesTheOutput) {
  if (std::system("command -v asciinema >/dev/null 2>&1") != 0) GTEST_SKIP() << "no asciinema";
  testing::TempDir dir("pc-rec");
  FakeClock clock;
  AsciicastFactory factory(Options(dir.path()), &clock);
  RecordingInfo info = Info("play1", clock.Now());
  info.record_input = true;
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const std::vector<std::string> chunks = {
      "\x1b[?1049h\x1b[H\x1b[2Jwelcome to rtu-01\r\n",
      std::string(kControls, sizeof kControls - 1),
      "euro \xe2\x82", "\xac split, emoji \xf0\x9f", "\x98\x80\r\n",
      "bad \xff\xfe bytes \xc3(\r\n",
      "\x1b[1;31mred\x1b[0m \xe4\xb8\xad\xe6\x96\x87\r\n",
  };
  std::string want;
  for (const auto& c : chunks) {
    clock.Advance(120ms);
    (*rec)->Output(c);
    (*rec)->Input("k");
  }
  (*rec)->Resize(100, 30);
  (*rec)->Marker("download /etc/motd");
  (*rec)->Output("tail \xe2\x82");  // incomplete at Close
  ASSERT_TRUE((*rec)->Close("client closed").ok());
  const std::string fffd(kReplacementChar);
  want = "\x1b[?1049h\x1b[H\x1b[2Jwelcome to rtu-01\r\n" +
         std::string(kControls, sizeof kControls - 1) +
         "euro \xe2\x82\xac split, emoji \xf0\x9f\x98\x80\r\n" + "bad " + fffd + fffd + " bytes " +
         fffd + "(\r\n" + "\x1b[1;31mred\x1b[0m \xe4\xb8\xad\xe6\x96\x87\r\n" + "tail " + fffd;
  const std::string path = factory.PathFor(info, info.started);

  auto cat = testing::RunInPty({"asciinema", "cat", path});
  ASSERT_FALSE(cat.timed_out);
  EXPECT_EQ(cat.exit_code, 0) << cat.out;
  EXPECT_EQ(cat.out, want);

  auto play = testing::RunInPty({"asciinema", "play", "-i", "0.01", path});
  ASSERT_FALSE(play.timed_out);
  EXPECT_EQ(play.exit_code, 0) << play.out;
  EXPECT_EQ(play.out, want);
}

}  // namespace
}  // namespace portcullis::recorder
