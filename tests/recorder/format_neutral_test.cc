// The sealing layer is independent of the recording's format: a binary
// stream in a test format of its own (not asciicast: NUL bytes, no lines,
// no header) is written through the same directory, stream, checkpoints and
// manifest as a terminal recording, and verifies VALID when closed,
// TRUNCATED when its writer is killed, INVALID with one byte flipped.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "broker/common/files.h"
#include "recorder/recording_directory.h"
#include "recorder/seal_format.h"
#include "recorder/verifier.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;

// A format the recorder knows nothing of.
const RecordingFormat kTestFormat{"application/x-portcullis-test-frames", "tfr"};

// One frame: 4-byte little-endian length, then binary bytes (NULs, 0xff).
std::string Frame(int i) {
  std::string body(96, '\0');
  for (size_t k = 0; k < body.size(); ++k) body[k] = static_cast<char>((i * 31 + k * 7) & 0xff);
  body[0] = '\0';
  body[1] = '\xff';
  const uint32_t len = static_cast<uint32_t>(body.size());
  std::string head(4, '\0');
  for (int b = 0; b < 4; ++b) head[b] = static_cast<char>((len >> (8 * b)) & 0xff);
  return head + body;
}

class FormatNeutralTest : public ::testing::Test {
 protected:
  RecordingDirectoryOptions Options() {
    RecordingDirectoryOptions opts;
    opts.dir = dir_.path();
    opts.min_free_bytes = 0;
    opts.signer = &signer_;
    opts.checkpoint_bytes = 256;
    return opts;
  }

  session::RecordingInfo Info(std::string id) {
    session::RecordingInfo info;
    info.session_id = std::move(id);
    info.user = "bob";
    info.login = "operator";
    info.target = "hmi-02";
    info.protocol = "vnc";
    info.source = "127.0.0.1:50900";
    info.started = clock_.Now();
    return info;
  }

  // Appends `n` frames one second apart, each its own write.
  void WriteFrames(SealedStream& s, int from, int n) {
    for (int i = from; i < from + n; ++i) {
      clock_.Advance(1s);
      const std::string f = Frame(i);
      ASSERT_TRUE(s.Append(f.substr(0, 4), f.substr(4), s.Stamp()));
      std::this_thread::sleep_for(2ms);  // separate writes, several checkpoints
    }
  }

  VerifyReport Verify(const std::string& path) {
    VerifyRequest req;
    req.recording_path = path;
    req.public_key_raw = signer_.RecordingPublicKey();
    return VerifyRecording(req);
  }

  testing::TempDir dir_{"pc-neutral"};
  testing::TestSigner signer_;
  FakeClock clock_{1'795'424'400};  // 2026-11-23T09:00:00Z
};

TEST_F(FormatNeutralTest, ABinaryStreamIsSealedAndVerifiesValid) {
  RecordingDirectory dir(Options(), &clock_);
  const session::RecordingInfo info = Info("b1n4ry");
  auto stream = dir.Open(info, kTestFormat, /*encoder=*/nullptr);
  ASSERT_TRUE(stream.ok()) << stream.status();
  const std::string path = dir.PathFor(info, info.started, kTestFormat);
  EXPECT_EQ(path, dir_.path() + "/2026/11/23/b1n4ry.0.tfr");
  EXPECT_EQ((*stream)->path(), path);
  WriteFrames(**stream, 0, 12);
  ASSERT_TRUE((*stream)->Close("client-closed").ok());

  const RecordingPaths files = PathsFor(path);
  EXPECT_EQ(files.manifest, dir_.path() + "/2026/11/23/b1n4ry.0.manifest.json");
  EXPECT_FALSE(PathExists(files.seal));
  const std::string bytes = testing::ReadWholeFile(path).value_or("");
  ASSERT_EQ(bytes.size(), 12u * 100u);
  EXPECT_EQ(bytes.substr(0, 100), Frame(0));  // exactly what was appended, nothing added
  auto m = ParseManifest(testing::ReadWholeFile(files.manifest).value_or(""));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->media_type, "application/x-portcullis-test-frames");
  EXPECT_EQ(m->recording_file, "b1n4ry.0.tfr");
  EXPECT_EQ(m->protocol, "vnc");
  EXPECT_EQ(m->size, bytes.size());
  EXPECT_EQ(m->duration_micros, 12'000'000);
  // The first write's checkpoint and the final one at least (a loaded
  // machine may write several frames in one batch).
  EXPECT_GE(m->checkpoints.size(), 2u);

  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.message;
  EXPECT_EQ(r.recording_id, "b1n4ry.0");
  EXPECT_EQ(r.valid_bytes, bytes.size());
  EXPECT_EQ(r.valid_until_micros, 12'000'000);

  // From the manifest alone: it names the file.
  VerifyRequest from_manifest;
  from_manifest.manifest_path = files.manifest;
  from_manifest.public_key_raw = signer_.RecordingPublicKey();
  r = VerifyRecording(from_manifest);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.message;
  EXPECT_EQ(r.file_size, bytes.size());
}

TEST_F(FormatNeutralTest, OneFlippedByteIsInvalid) {
  RecordingDirectory dir(Options(), &clock_);
  const session::RecordingInfo info = Info("fl1p");
  auto stream = dir.Open(info, kTestFormat, nullptr);
  ASSERT_TRUE(stream.ok()) << stream.status();
  WriteFrames(**stream, 0, 12);
  ASSERT_TRUE((*stream)->Close("client-closed").ok());
  const std::string path = dir.PathFor(info, info.started, kTestFormat);
  const std::string bytes = testing::ReadWholeFile(path).value_or("");
  ASSERT_EQ(bytes.size(), 1200u);
  for (size_t at : {size_t{0}, size_t{555}, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    ASSERT_TRUE(testing::WriteWholeFile(path, flipped, 0600).ok());
    auto r = Verify(path);
    EXPECT_EQ(r.verdict, Verdict::kInvalid) << r.message;
    ASSERT_TRUE(r.bad_begin.has_value() && r.bad_end.has_value()) << r.message;
    EXPECT_LE(*r.bad_begin, at);
    EXPECT_GT(*r.bad_end, at);
    EXPECT_NE(r.message.find("differ from"), std::string::npos) << r.message;
  }
}

// The writer process is SIGKILLed mid-stream: no manifest, and the seal
// proves the prefix up to its last checkpoint.
TEST_F(FormatNeutralTest, KilledWriterLeavesATruncatedPrefix) {
  const session::RecordingInfo info = Info("k1ll");
  const std::string path =
      RecordingDirectory(Options(), &clock_).PathFor(info, info.started, kTestFormat);
  const RecordingPaths files = PathsFor(path);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    RecordingDirectoryOptions opts = Options();
    opts.checkpoint_interval = std::chrono::hours(1);  // only the first write's checkpoint
    RecordingDirectory dir(opts, &clock_);
    auto stream = dir.Open(info, kTestFormat, nullptr);
    if (!stream.ok()) ::_exit(2);
    clock_.Advance(2s);
    const std::string f = Frame(1);
    (*stream)->Append(f.substr(0, 4), f.substr(4), (*stream)->Stamp());
    if (!testing::WaitForCheckpoints(files.seal, 1)) ::_exit(3);
    clock_.Advance(1s);
    (*stream)->Append(f.substr(0, 4), f.substr(4), (*stream)->Stamp());  // after the checkpoint
    if (!testing::WaitUntil([&] { return testing::ReadWholeFile(path).value_or("").size() == 200; }))
      ::_exit(4);
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;

  EXPECT_FALSE(PathExists(files.manifest));
  const auto lines = testing::SealLines(files.seal);
  ASSERT_EQ(lines.size(), 1u);
  auto last = ParseCheckpointLine(lines.back());
  ASSERT_TRUE(last.ok()) << last.status();
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kTruncated) << r.message;
  EXPECT_EQ(r.recording_id, "k1ll.0");
  EXPECT_EQ(r.file_size, 200u);
  EXPECT_EQ(r.valid_bytes, 100u);
  EXPECT_EQ(last->offset, 100u);
  EXPECT_EQ(r.valid_until_micros, 2'000'000);
  EXPECT_EQ(r.message,
            "TRUNCATED at 00:00:02: the first 100 bytes verify (checkpoint 0); 100 bytes after it "
            "are not sealed (no manifest: the recording was not closed)");

  // The prefix is proven byte for byte: a flipped byte in it is INVALID.
  std::string bytes = testing::ReadWholeFile(path).value_or("");
  bytes[50] = static_cast<char>(bytes[50] ^ 0x80);
  ASSERT_TRUE(testing::WriteWholeFile(path, bytes, 0600).ok());
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid) << r.message;
  EXPECT_EQ(r.bad_begin, 0u);
}

TEST_F(FormatNeutralTest, RefusesAnInvalidFormat) {
  RecordingDirectory dir(Options(), &clock_);
  for (const RecordingFormat& bad :
       {RecordingFormat{"", "tfr"}, RecordingFormat{"application/x-test", ""},
        RecordingFormat{"application/x-test", "0"}, RecordingFormat{"Application/X", "tfr"},
        RecordingFormat{"application/x-test", "../x"}}) {
    auto s = dir.Open(Info("f0rmat"), bad, nullptr);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.media_type << " " << bad.extension;
  }
}

}  // namespace
}  // namespace portcullis::recorder
