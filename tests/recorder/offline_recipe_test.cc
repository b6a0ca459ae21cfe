// The reviewer's offline recipe of docs/recordings.md ("Verifying
// offline"), run with the real tools: openssl, sha256sum, cut, base64, head.
// The scripts below are the documented commands verbatim; only ID, FILE
// and the key file name are set by the test.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "recorder/asciicast_factory.h"
#include "recorder/seal_format.h"
#include "recorder/verifier.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;

// A complete recording: the manifest's signature, then the recording's hash.
constexpr char kCompleteRecipe[] = R"(set -e
openssl pkeyutl -verify -pubin -inkey recording_key.pem -rawin \
  -in "$ID.manifest.json" -sigfile "$ID.manifest.sig"
file=$(grep -m1 '"recording_file"' "$ID.manifest.json" | cut -d'"' -f4)
want=$(grep -m1 '"sha256"' "$ID.manifest.json" | cut -d'"' -f4)
echo "$want  $file" | sha256sum -c -
)";

// A recording without a manifest (the broker was killed): the last complete
// checkpoint line's signature, then the hash of the prefix it seals.
constexpr char kTruncatedRecipe[] = R"(set -e
n=$(wc -l < "$ID.seal")
line=$(sed -n "${n}p" "$ID.seal")
printf '%s' "$line" | cut -d' ' -f1-7 | tr -d '\n' > checkpoint.payload
printf '%s' "$line" | cut -d' ' -f8 | base64 -d > checkpoint.sig
openssl pkeyutl -verify -pubin -inkey recording_key.pem -rawin \
  -in checkpoint.payload -sigfile checkpoint.sig
off=$(printf '%s' "$line" | cut -d' ' -f4)
want=$(printf '%s' "$line" | cut -d' ' -f6)
echo "$want  -" > prefix.sha256
head -c "$off" "$FILE" | sha256sum -c prefix.sha256
echo "the first $off bytes of $FILE are sealed"
)";

bool HaveTools() {
  return std::system("{ command -v openssl && command -v sha256sum && command -v base64; } "
                     ">/dev/null 2>&1") == 0;
}

class OfflineRecipeTest : public ::testing::Test {
 protected:
  // Records a short session into dir_/rec; returns the recording's path.
  std::string Record(const std::string& id, bool close) {
    AsciicastFactoryOptions opts;
    opts.dir = dir_.Join("rec");
    opts.min_free_bytes = 0;
    opts.signer = &signer_;
    opts.checkpoint_bytes = 200;
    factory_ = std::make_unique<AsciicastFactory>(opts, &clock_);
    session::RecordingInfo info;
    info.session_id = id;
    info.user = "bob";
    info.started = clock_.Now();
    auto rec = factory_->OpenTerminal(info);
    EXPECT_TRUE(rec.ok()) << rec.status();
    if (!rec.ok()) return "";
    rec_ = std::move(*rec);
    for (int i = 0; i < 8; ++i) {
      clock_.Advance(1s);
      rec_->Output("output line " + std::to_string(i) + " of the session\r\n");
      std::this_thread::sleep_for(2ms);
    }
    const std::string path = factory_->PathFor(info, info.started);
    if (close) {
      EXPECT_TRUE(rec_->Close("client closed").ok());
    }
    return path;
  }

  testing::CommandResult Run(const std::string& dir, const std::string& id,
                             const std::string& recipe) {
    EXPECT_TRUE(testing::WriteWholeFile(dir + "/recording_key.pem",
                                        RecordingPublicKeyPem(signer_.RecordingPublicKey()))
                    .ok());
    return testing::RunCommand(
        {"bash", "-c", "cd \"$0\" && ID=\"$1\" && FILE=\"$ID.cast\" && " + recipe, dir, id});
  }

  testing::TempDir dir_{"pc-recipe"};
  testing::TestSigner signer_;
  FakeClock clock_{1'795'424'400};
  std::unique_ptr<AsciicastFactory> factory_;
  std::unique_ptr<session::TerminalRecorder> rec_;
};

TEST_F(OfflineRecipeTest, CompleteRecordingWithOpensslAndSha256sum) {
  if (!HaveTools()) GTEST_SKIP() << "openssl or coreutils missing";
  const std::string path = Record("offline1", /*close=*/true);
  const std::string dir = path.substr(0, path.rfind('/'));
  auto ok = Run(dir, "offline1.0", kCompleteRecipe);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("Signature Verified Successfully"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("offline1.0.cast: OK"), std::string::npos) << ok.out;

  // One edited byte of the manifest: openssl refuses it.
  const std::string manifest = PathsFor(path).manifest;
  std::string json = testing::ReadWholeFile(manifest).value_or("");
  const size_t at = json.find("\"bob\"");
  ASSERT_NE(at, std::string::npos);
  json[at + 1] = 'B';
  ASSERT_TRUE(testing::WriteWholeFile(manifest, json, 0600).ok());
  auto forged = Run(dir, "offline1.0", kCompleteRecipe);
  EXPECT_NE(forged.exit_code, 0);
  EXPECT_NE((forged.out + forged.err).find("Signature Verification Failure"), std::string::npos)
      << forged.out << forged.err;
}

TEST_F(OfflineRecipeTest, EditedRecordingFailsSha256sum) {
  if (!HaveTools()) GTEST_SKIP() << "openssl or coreutils missing";
  const std::string path = Record("offline2", /*close=*/true);
  const std::string dir = path.substr(0, path.rfind('/'));
  std::string cast = testing::ReadWholeFile(path).value_or("");
  ASSERT_NE(cast.find("line 3"), std::string::npos);
  cast[cast.find("line 3")] = 'L';
  ASSERT_TRUE(testing::WriteWholeFile(path, cast, 0600).ok());
  auto r = Run(dir, "offline2.0", kCompleteRecipe);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("offline2.0.cast: FAILED"), std::string::npos) << r.out << r.err;
}

TEST_F(OfflineRecipeTest, TruncatedRecordingWithTheLastCheckpoint) {
  if (!HaveTools()) GTEST_SKIP() << "openssl or coreutils missing";
  const std::string path = Record("offline3", /*close=*/false);
  const RecordingPaths files = PathsFor(path);
  // What a killed broker leaves: the recording, its seal with the last line
  // half-written, and bytes after the last checkpoint.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (rec_->Backlog() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  clock_.Advance(5s);
  std::string cast, seal;
  for (;;) {
    cast = testing::ReadWholeFile(path).value_or("");
    seal = testing::ReadWholeFile(files.seal).value_or("");
    auto lines = testing::SplitLines(seal);
    auto last = ParseCheckpointLine(lines.empty() ? "" : lines.back());
    if (last.ok() && last->offset == cast.size()) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not checkpointed";
    std::this_thread::sleep_for(10ms);
  }
  const std::string crash = dir_.Join("crash");
  ASSERT_EQ(::mkdir(crash.c_str(), 0700), 0);
  const std::string copy = crash + "/offline3.0.cast";
  const std::string unsealed = "[9.000000, \"o\", \"after the last checkpoint\"]\n";
  ASSERT_TRUE(testing::WriteWholeFile(copy, cast + unsealed, 0600).ok());
  ASSERT_TRUE(testing::WriteWholeFile(PathsFor(copy).seal, seal + "portcullis-checkpoint/1 off",
                                      0600).ok());
  ASSERT_TRUE(rec_->Close("client closed").ok());

  auto r = Run(crash, "offline3.0", kTruncatedRecipe);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Signature Verified Successfully"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-: OK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the first " + std::to_string(cast.size()) + " bytes of offline3.0.cast "
                       "are sealed"),
            std::string::npos)
      << r.out;

  // Our verifier agrees.
  VerifyRequest req;
  req.recording_path = copy;
  req.public_key_raw = signer_.RecordingPublicKey();
  VerifyReport report = VerifyRecording(req);
  EXPECT_EQ(report.verdict, Verdict::kTruncated) << report.message;
  EXPECT_EQ(report.valid_bytes, cast.size());

  // An edited byte inside the sealed prefix: sha256sum refuses it.
  std::string edited = cast + unsealed;
  ASSERT_NE(edited.find("line 2"), std::string::npos);
  edited[edited.find("line 2")] = 'L';
  ASSERT_TRUE(testing::WriteWholeFile(copy, edited, 0600).ok());
  r = Run(crash, "offline3.0", kTruncatedRecipe);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("-: FAILED"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace portcullis::recorder
