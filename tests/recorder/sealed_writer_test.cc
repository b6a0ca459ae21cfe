// The writer side of sealing: checkpoints while a recording is written
// (also when it is idle), the manifest at Close, fail-closed signing and the
// size cap, and a writer killed with SIGKILL leaving a TRUNCATED prefix.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "recorder/asciicast_factory.h"
#include "recorder/seal_format.h"
#include "recorder/verifier.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;
using session::RecordingInfo;

int Mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

using testing::SealLines;
using testing::WaitForCheckpoints;
using testing::WaitUntil;

class SealedWriterTest : public ::testing::Test {
 protected:
  AsciicastFactoryOptions Options() {
    AsciicastFactoryOptions opts;
    opts.dir = dir_.path();
    opts.min_free_bytes = 0;
    opts.signer = &signer_;
    opts.observer = &observer_;
    return opts;
  }

  RecordingInfo Info(std::string id = "s3al") {
    RecordingInfo info;
    info.session_id = std::move(id);
    info.user = "bob";
    info.login = "maint";
    info.target = "rtu-01";
    info.protocol = "ssh";
    info.source = "127.0.0.1:50022";
    info.target_address = "127.0.0.1:2222";
    info.roles = {"ops"};
    info.rule = "role ops allow";
    info.certificate_serial = 7;
    info.started = clock_.Now();
    return info;
  }

  VerifyReport Verify(const std::string& path) {
    VerifyRequest req;
    req.recording_path = path;
    req.public_key_raw = signer_.RecordingPublicKey();
    return VerifyRecording(req);
  }

  testing::TempDir dir_{"pc-seal"};
  testing::TestSigner signer_;
  testing::TestObserver observer_;
  FakeClock clock_{1'795'424'400};  // 2026-11-23T09:00:00Z
};

TEST_F(SealedWriterTest, CloseWritesASignedManifestAndRemovesTheSeal) {
  AsciicastFactory factory(Options(), &clock_);
  RecordingInfo info = Info();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const std::string path = factory.PathFor(info, info.started);
  const RecordingPaths files = PathsFor(path);
  ASSERT_TRUE(WaitForCheckpoints(files.seal, 1));  // right after the header
  EXPECT_EQ(Mode(files.seal), 0600);
  clock_.Advance(1500ms);
  (*rec)->Output("hello\r\n");
  clock_.Advance(2s);
  ASSERT_TRUE((*rec)->Close("client closed").ok());

  EXPECT_FALSE(PathExists(files.seal));
  EXPECT_EQ(Mode(files.manifest), 0600);
  EXPECT_EQ(Mode(files.signature), 0600);
  auto json = testing::ReadWholeFile(files.manifest);
  auto sig = testing::ReadWholeFile(files.signature);
  auto cast = testing::ReadWholeFile(path);
  ASSERT_TRUE(json.ok() && sig.ok() && cast.ok());
  EXPECT_TRUE(ca::VerifyEd25519(signer_.RecordingPublicKey(), *json, *sig).ok());
  auto m = ParseManifest(*json);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->recording_id, "s3al.0");
  EXPECT_EQ(m->recording_file, "s3al.0.cast");
  EXPECT_EQ(m->media_type, "application/x-asciicast");
  EXPECT_EQ(m->user, "bob");
  EXPECT_EQ(m->target_address, "127.0.0.1:2222");
  EXPECT_EQ(m->roles, std::vector<std::string>{"ops"});
  EXPECT_EQ(m->certificate_serial, 7u);
  EXPECT_EQ(m->started, "2026-11-23T09:00:00.000000Z");
  EXPECT_EQ(m->ended, "2026-11-23T09:00:03.500000Z");
  EXPECT_EQ(m->duration_micros, 3'500'000);
  EXPECT_EQ(m->state, "complete");
  EXPECT_EQ(m->end_reason, "client closed");
  EXPECT_EQ(m->size, cast->size());
  EXPECT_EQ(m->sha256_hex, HexEncode(Sha256(*cast)));
  EXPECT_EQ(m->key, RecordingKeyId(signer_.RecordingPublicKey()));
  ASSERT_GE(m->checkpoints.size(), 2u);  // the header's and the final one
  EXPECT_EQ(m->checkpoints.front().offset, cast->find('\n') + 1);
  EXPECT_EQ(m->checkpoints.back().offset, cast->size());
  EXPECT_EQ(m->checkpoints.back().elapsed_micros, 3'500'000);  // the end marker

  auto report = Verify(path);
  EXPECT_EQ(report.verdict, Verdict::kValid) << report.message;
  EXPECT_EQ(report.message, "VALID: " + std::to_string(cast->size()) + " bytes, sha256 " +
                                m->sha256_hex + ", sealed 2026-11-23T09:00:03.500000Z");

  ASSERT_EQ(observer_.Paths(), std::vector<std::string>{path});
  auto ends = observer_.Ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].recording_id, "s3al.0");
  EXPECT_EQ(ends[0].state, "complete");
  EXPECT_EQ(ends[0].end_reason, "client closed");
  EXPECT_EQ(ends[0].failure, "");
  EXPECT_EQ(ends[0].size, cast->size());
  EXPECT_EQ(ends[0].sha256_hex, m->sha256_hex);
}

TEST_F(SealedWriterTest, NoSignerNoRecording) {
  AsciicastFactoryOptions opts = Options();
  opts.signer = nullptr;
  AsciicastFactory factory(opts, &clock_);
  EXPECT_EQ(factory.Ready().code(), absl::StatusCode::kFailedPrecondition);
  auto rec = factory.OpenTerminal(Info());
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(observer_.Paths().empty());
}

TEST_F(SealedWriterTest, ObserverRefusalRefusesTheRecording) {
  observer_.refuse = absl::UnavailableError("catalogue: database is locked");
  AsciicastFactory factory(Options(), &clock_);
  RecordingInfo info = Info();
  auto rec = factory.OpenTerminal(info);
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(std::string(rec.status().message()), "catalogue: database is locked");
  EXPECT_FALSE(PathExists(factory.PathFor(info, info.started)));  // Opened() came first
  EXPECT_EQ(observer_.Paths().size(), 1u);
  EXPECT_TRUE(observer_.Ends().empty());
}

TEST_F(SealedWriterTest, CheckpointsKeepComingWhileIdle) {
  AsciicastFactory factory(Options(), &clock_);
  RecordingInfo info = Info();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const RecordingPaths files = PathsFor(factory.PathFor(info, info.started));
  ASSERT_TRUE(WaitForCheckpoints(files.seal, 1));
  clock_.Advance(1s);
  (*rec)->Output("$ ");  // unsealed: the interval (4 s) has not passed
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(SealLines(files.seal).size(), 1u);
  clock_.Advance(4s);  // now it has; nothing new arrives
  ASSERT_TRUE(WaitForCheckpoints(files.seal, 2, 3s));
  auto cast = testing::ReadWholeFile(files.recording);
  ASSERT_TRUE(cast.ok());
  auto lines = SealLines(files.seal);
  auto cp = ParseCheckpointLine(lines[1]);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->seq, 1u);
  EXPECT_EQ(cp->offset, cast->size());
  EXPECT_EQ(cp->elapsed_micros, 1'000'000);  // the session time of "$ "
  EXPECT_EQ(cp->utc, "2026-11-23T09:00:05.000000Z");
  EXPECT_EQ(cp->sha256_hex, HexEncode(Sha256(*cast)));
  // Sealed files with nothing new get no more checkpoints.
  clock_.Advance(10s);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(SealLines(files.seal).size(), 2u);
  ASSERT_TRUE((*rec)->Close("client closed").ok());
}

TEST_F(SealedWriterTest, CheckpointsEveryThresholdBytes) {
  AsciicastFactoryOptions opts = Options();
  opts.checkpoint_bytes = 1024;
  AsciicastFactory factory(opts, &clock_);
  RecordingInfo info = Info();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const RecordingPaths files = PathsFor(factory.PathFor(info, info.started));
  // Each pair of outputs (over 1,200 bytes) crosses the threshold since the
  // last checkpoint; waiting for that checkpoint before the next pair keeps
  // a loaded machine from folding several crossings into one write (or
  // into one checkpoint still being synced, which the next one skips).
  ASSERT_TRUE(WaitForCheckpoints(files.seal, 1));
  for (int i = 0; i < 10; ++i) {
    const size_t before = SealLines(files.seal).size();
    (*rec)->Output(std::string(600, 'a' + (2 * i) % 26));
    (*rec)->Output(std::string(600, 'a' + (2 * i + 1) % 26));
    ASSERT_TRUE(WaitForCheckpoints(files.seal, before + 1, 10s)) << "pair " << i;
  }
  ASSERT_GE(SealLines(files.seal).size(), 11u);
  uint64_t last = 0;
  auto lines = SealLines(files.seal);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto cp = ParseCheckpointLine(lines[i]);
    ASSERT_TRUE(cp.ok()) << cp.status();
    EXPECT_EQ(cp->seq, i);
    EXPECT_GT(cp->offset, last);
    if (i > 0) {
      EXPECT_GE(cp->offset - last, 1024u);
    }
    last = cp->offset;
  }
  ASSERT_TRUE((*rec)->Close("client closed").ok());
  EXPECT_EQ(Verify(files.recording).verdict, Verdict::kValid);
}

// A checkpoint is made durable and signed on a sync thread: while one is
// slow (here: its signing is held), the recording goes on being written,
// no second checkpoint piles up behind it, and the seal catches up after.
TEST_F(SealedWriterTest, ASlowCheckpointDoesNotHoldUpTheRecording) {
  AsciicastFactoryOptions opts = Options();
  opts.checkpoint_bytes = 1024;
  AsciicastFactory factory(opts, &clock_);
  RecordingInfo info = Info();
  signer_.Hold();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const RecordingPaths files = PathsFor(factory.PathFor(info, info.started));
  for (int i = 0; i < 200; ++i) (*rec)->Output(std::string(600, 'a' + i % 26) + "\r\n");
  // Everything reaches the file while the first checkpoint is held.
  WaitUntil([&] {
    return std::filesystem::file_size(files.recording) >= 200u * 600 && (*rec)->Backlog() == 0 &&
           signer_.held_calls.load() > 0;
  });
  EXPECT_GE(std::filesystem::file_size(files.recording), 200u * 600);
  EXPECT_EQ((*rec)->Backlog(), 0u);
  EXPECT_TRUE((*rec)->Health().ok()) << (*rec)->Health();
  EXPECT_EQ(signer_.held_calls.load(), 1);  // one checkpoint in flight, no more
  EXPECT_EQ(SealLines(files.seal).size(), 0u);
  signer_.Release();
  ASSERT_TRUE(WaitForCheckpoints(files.seal, 1));
  ASSERT_TRUE((*rec)->Close("client closed").ok());
  auto report = Verify(files.recording);
  EXPECT_EQ(report.verdict, Verdict::kValid) << report.message;
}

TEST_F(SealedWriterTest, SizeCapFailsTheRecordingAndSealsThePrefix) {
  AsciicastFactoryOptions opts = Options();
  opts.max_recording_bytes = 4096;
  AsciicastFactory factory(opts, &clock_);
  RecordingInfo info = Info();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const std::string path = factory.PathFor(info, info.started);
  for (int i = 0; i < 10 && (*rec)->Health().ok(); ++i) (*rec)->Output(std::string(1000, 'x'));
  // The writer thread finds the cap as it encodes: the health turns soon.
  WaitUntil([&] { return !(*rec)->Health().ok(); });
  absl::Status health = (*rec)->Health();
  EXPECT_EQ(health.code(), absl::StatusCode::kResourceExhausted);
  const std::string want = "recording: " + path + " reached the size cap of 4096 bytes";
  EXPECT_EQ(std::string(health.message()), want);
  EXPECT_EQ((*rec)->Close("recording failed").code(), absl::StatusCode::kResourceExhausted);

  auto cast = testing::ReadWholeFile(path);
  ASSERT_TRUE(cast.ok());
  EXPECT_LE(cast->size(), 4096u);
  EXPECT_EQ(cast->back(), '\n');  // whole events only
  auto report = Verify(path);
  EXPECT_EQ(report.verdict, Verdict::kValid) << report.message;
  EXPECT_NE(report.message.find("(the recording failed: " + want + ")"), std::string::npos)
      << report.message;
  ASSERT_TRUE(report.manifest.has_value());
  EXPECT_EQ(report.manifest->state, "failed");
  EXPECT_EQ(report.manifest->failure, want);
  auto ends = observer_.Ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].state, "failed");
  EXPECT_EQ(ends[0].failure, want);
  EXPECT_EQ(ends[0].size, cast->size());
}

TEST_F(SealedWriterTest, SigningFailureFailsClosed) {
  AsciicastFactoryOptions opts = Options();
  opts.checkpoint_bytes = 64;
  AsciicastFactory factory(opts, &clock_);
  RecordingInfo info = Info();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  const std::string path = factory.PathFor(info, info.started);
  ASSERT_TRUE(WaitForCheckpoints(PathsFor(path).seal, 1));
  signer_.fail = true;
  (*rec)->Output(std::string(100, 'z'));
  WaitUntil([&] { return !(*rec)->Health().ok(); }, 5s, 5ms);
  absl::Status health = (*rec)->Health();
  EXPECT_EQ(health.code(), absl::StatusCode::kInternal);
  EXPECT_NE(std::string(health.message()).find("cannot sign a checkpoint of " + path),
            std::string::npos)
      << health;
  absl::Status closed = (*rec)->Close("recording failed");
  EXPECT_FALSE(closed.ok());
  // No manifest could be signed: the seal alone proves the header.
  EXPECT_FALSE(PathExists(PathsFor(path).manifest));
  auto report = Verify(path);
  EXPECT_EQ(report.verdict, Verdict::kTruncated) << report.message;
  auto ends = observer_.Ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].state, "failed");
}

// A checkpoint that fails while the recording is being closed fails the
// close, with the reason (Close waits for the checkpoint in flight).
TEST_F(SealedWriterTest, ACheckpointFailingDuringCloseFailsTheClose) {
  AsciicastFactory factory(Options(), &clock_);
  RecordingInfo info = Info();
  signer_.Hold();
  auto rec = factory.OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  WaitUntil([&] { return signer_.held_calls.load() > 0; });
  ASSERT_EQ(signer_.held_calls.load(), 1);  // the header's checkpoint is in flight
  signer_.fail = true;
  absl::Status closed;
  std::thread closer([&] { closed = (*rec)->Close("client closed"); });
  std::this_thread::sleep_for(50ms);
  signer_.Release();
  closer.join();
  EXPECT_EQ(closed.code(), absl::StatusCode::kInternal) << closed;
  EXPECT_NE(std::string(closed.message()).find("cannot sign a checkpoint"), std::string::npos)
      << closed;
  auto ends = observer_.Ends();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].state, "failed");
}

// A broker killed with SIGKILL in the middle of a session: the prefix up to
// the last checkpoint verifies, what came after it is reported unsealed.
TEST_F(SealedWriterTest, KilledWriterLeavesATruncatedPrefix) {
  RecordingInfo info = Info("kill9");
  const std::string path = AsciicastFactory(Options(), &clock_).PathFor(info, info.started);
  const RecordingPaths files = PathsFor(path);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child owns the factory and its writer thread.
    AsciicastFactory factory(Options(), &clock_);
    auto rec = factory.OpenTerminal(info);
    if (!rec.ok()) ::_exit(2);
    if (!WaitForCheckpoints(files.seal, 1)) ::_exit(3);
    clock_.Advance(2s);
    (*rec)->Output("before the checkpoint\r\n");
    clock_.Advance(5s);  // the idle tick seals it
    if (!WaitForCheckpoints(files.seal, 2)) ::_exit(3);
    clock_.Advance(1s);
    (*rec)->Output("after the checkpoint\r\n");
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (testing::ReadWholeFile(path).value_or("").find("after") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) ::_exit(4);
      std::this_thread::sleep_for(5ms);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;

  EXPECT_FALSE(PathExists(files.manifest));
  auto cast = testing::ReadWholeFile(path);
  ASSERT_TRUE(cast.ok());
  auto lines = SealLines(files.seal);
  ASSERT_EQ(lines.size(), 2u);
  auto last = ParseCheckpointLine(lines[1]);
  ASSERT_TRUE(last.ok());
  const size_t sealed = cast->find("after");
  ASSERT_NE(sealed, std::string::npos);
  const size_t line_start = cast->rfind('\n', sealed) + 1;
  EXPECT_EQ(last->offset, line_start);

  auto report = Verify(path);
  EXPECT_EQ(report.verdict, Verdict::kTruncated) << report.message;
  EXPECT_EQ(report.valid_bytes, line_start);
  EXPECT_EQ(report.valid_until_micros, 2'000'000);
  EXPECT_EQ(report.file_size, cast->size());
  EXPECT_EQ(report.message,
            "TRUNCATED at 00:00:02: the first " + std::to_string(line_start) +
                " bytes verify (checkpoint 1); " + std::to_string(cast->size() - line_start) +
                " bytes after it are not sealed (no manifest: the recording was not closed)");

  // A crash while appending a checkpoint leaves half a line: ignored.
  ASSERT_TRUE(testing::WriteWholeFile(files.seal, lines[0] + "\n" + lines[1] + "\n" +
                                                      lines[1].substr(0, 50), 0600).ok());
  report = Verify(path);
  EXPECT_EQ(report.verdict, Verdict::kTruncated) << report.message;
  EXPECT_EQ(report.valid_bytes, line_start);
}

}  // namespace
}  // namespace portcullis::recorder
