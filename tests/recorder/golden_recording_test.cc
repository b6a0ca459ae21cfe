// Recordings sealed by an earlier version keep verifying. testdata/sealed-0.1.0/
// holds a terminal recording exactly as Portcullis 0.1.0 wrote and sealed it
// (see the README there): the .cast, its .seal (checkpoints), its manifest
// and signature, and the throwaway test key's public half. The tests copy
// them to a scratch directory and check VALID, TRUNCATED (no manifest) and
// INVALID (one byte flipped, anywhere).
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "broker/common/encoding.h"
#include "broker/common/files.h"
#include "recorder/seal_format.h"
#include "recorder/verifier.h"
#include "tests/recorder/recording_files.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

const std::string kGolden = std::string(PC_SOURCE_DIR) + "/tests/recorder/testdata/sealed-0.1.0";
constexpr char kId[] = "901de2a0c0de.0";
constexpr char kGoldenCastSha256[] =
    "76a05fe978d7e5540350e6957116dec14f21817f3f85b188aab1406547250da2";

std::string Golden(const std::string& name) {
  auto data = testing::ReadWholeFile(kGolden + "/" + name);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.value_or("");
}

class GoldenRecordingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = ParseRecordingPublicKey(Golden("recording_key.pem"));
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = *key;
    cast_ = Golden(std::string(kId) + ".cast");
    ASSERT_FALSE(cast_.empty());
  }

  // Copies the golden files named by `exts` ("cast", "seal", ...) into a
  // fresh directory; returns the recording's path there.
  std::string Copy(const std::vector<std::string>& exts) {
    const std::string dir = scratch_.Join(std::to_string(copies_++));
    EXPECT_TRUE(MakeDirs(dir, 0700).ok()) << dir;
    for (const std::string& ext : exts) {
      const std::string name = std::string(kId) + "." + ext;
      EXPECT_TRUE(testing::WriteWholeFile(dir + "/" + name, Golden(name), 0600).ok()) << name;
    }
    return dir + "/" + kId + ".cast";
  }

  VerifyReport Verify(const std::string& path) {
    VerifyRequest req;
    req.recording_path = path;
    req.public_key_raw = key_;
    return VerifyRecording(req);
  }

  std::string key_;
  std::string cast_;
  testing::TempDir scratch_{"pc-golden"};
  int copies_ = 0;
};

TEST_F(GoldenRecordingTest, TheFixturesAreTheOnesCommitted) {
  // A regenerated fixture would prove nothing about old recordings.
  EXPECT_EQ(HexEncode(Sha256(cast_)), kGoldenCastSha256);
  auto m = ParseManifest(Golden(std::string(kId) + ".manifest.json"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sha256_hex, kGoldenCastSha256);
  EXPECT_EQ(m->recording_file, std::string(kId) + ".cast");
  EXPECT_EQ(m->media_type, "asciicast/2");  // what 0.1.0 wrote
  EXPECT_EQ(m->key, RecordingKeyId(key_));
}

TEST_F(GoldenRecordingTest, SealedByTheManifestIsValid) {
  const std::string path = Copy({"cast", "manifest.json", "manifest.sig"});
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.message;
  EXPECT_EQ(r.recording_id, kId);
  EXPECT_EQ(r.file_size, cast_.size());
  EXPECT_EQ(r.valid_bytes, cast_.size());
  ASSERT_TRUE(r.manifest.has_value());
  EXPECT_EQ(r.message, fmt::format("VALID: {} bytes, sha256 {}, sealed {}", cast_.size(),
                                   kGoldenCastSha256, r.manifest->ended));
  EXPECT_EQ(r.manifest->user, "alice");
  EXPECT_EQ(r.manifest->target, "rtu-07");
  EXPECT_GE(r.manifest->checkpoints.size(), 3u);

  // From the manifest alone, which names the recording beside it.
  VerifyRequest req;
  req.manifest_path = PathsFor(path).manifest;
  req.public_key_raw = key_;
  r = VerifyRecording(req);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.message;
  EXPECT_EQ(r.file_size, cast_.size());

  // A leftover seal beside a manifest changes nothing.
  r = Verify(Copy({"cast", "manifest.json", "manifest.sig", "seal"}));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.message;
}

TEST_F(GoldenRecordingTest, WithoutItsManifestTheSealProvesItTruncated) {
  const std::string path = Copy({"cast", "seal"});
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kTruncated) << r.message;
  EXPECT_EQ(r.recording_id, kId);
  EXPECT_EQ(r.valid_bytes, cast_.size());  // the last checkpoint seals it all
  EXPECT_NE(r.message.find("; 0 bytes after it are not sealed"), std::string::npos) << r.message;

  // Without its last checkpoint, a shorter prefix is proven.
  const RecordingPaths files = PathsFor(path);
  const auto lines = testing::SplitLines(Golden(std::string(kId) + ".seal"));
  ASSERT_GE(lines.size(), 3u);
  std::string shorter;
  for (size_t i = 0; i + 1 < lines.size(); ++i) shorter += lines[i] + "\n";
  ASSERT_TRUE(testing::WriteWholeFile(files.seal, shorter, 0600).ok());
  auto before_last = ParseCheckpointLine(lines[lines.size() - 2]);
  ASSERT_TRUE(before_last.ok());
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kTruncated) << r.message;
  EXPECT_EQ(r.valid_bytes, before_last->offset);
  EXPECT_LT(r.valid_bytes, cast_.size());
}

TEST_F(GoldenRecordingTest, OneFlippedByteIsInvalid) {
  for (const bool sealed : {true, false}) {
    for (size_t at : {size_t{0}, size_t{40}, cast_.size() / 2, cast_.size() - 2}) {
      const std::string path = sealed ? Copy({"cast", "manifest.json", "manifest.sig"})
                                      : Copy({"cast", "seal"});
      std::string flipped = cast_;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
      ASSERT_TRUE(testing::WriteWholeFile(path, flipped, 0600).ok());
      auto r = Verify(path);
      EXPECT_EQ(r.verdict, Verdict::kInvalid) << (sealed ? "manifest " : "seal ") << at;
      // The header is bytes like any other: the range that holds it fails.
      ASSERT_TRUE(r.bad_begin.has_value() && r.bad_end.has_value()) << r.message;
      EXPECT_LE(*r.bad_begin, at) << r.message;
      EXPECT_GT(*r.bad_end, at) << r.message;
    }
  }
  // ... and so is one flipped byte of the manifest.
  const std::string path = Copy({"cast", "manifest.json", "manifest.sig"});
  const std::string manifest = PathsFor(path).manifest;
  std::string json = Golden(std::string(kId) + ".manifest.json");
  json[json.find("alice")] = 'A';
  ASSERT_TRUE(testing::WriteWholeFile(manifest, json, 0600).ok());
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid) << r.message;
  EXPECT_NE(r.message.find("signature does not verify"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace portcullis::recorder
