#include "recorder/seal_format.h"

#include "recorder/recording_format.h"

#include <string>

#include <gtest/gtest.h>

#include "broker/common/encoding.h"

namespace portcullis::recorder {
namespace {

const std::string kSig(64, '\x5a');
const std::string kHash(64, 'a');

Checkpoint Sample() {
  Checkpoint cp;
  cp.recording_id = "a1b2c3.0";
  cp.seq = 17;
  cp.offset = 40960;
  cp.elapsed_micros = 83'000'042;
  cp.sha256_hex = kHash;
  cp.utc = "2026-11-22T10:00:05.123456Z";
  cp.signature = kSig;
  return cp;
}

Manifest SampleManifest() {
  Manifest m;
  m.recording_id = "a1b2c3.0";
  m.recording_file = "a1b2c3.0.cast";
  m.media_type = "asciicast/2";
  m.session_id = "a1b2c3";
  m.channel = 0;
  m.protocol = "ssh";
  m.user = "bob";
  m.login = "maint";
  m.target = "rtu-01";
  m.target_address = "10.0.0.5:22";
  m.source = "127.0.0.1:50022";
  m.command = "uname -a \"quoted\"";
  m.roles = {"ops", "vendor-acme"};
  m.rule = "role ops allow: targets site=plant-a";
  m.approvals = {};
  m.certificate_serial = 42;
  m.record_input = true;
  m.started = "2026-11-22T10:00:00.000000Z";
  m.ended = "2026-11-22T10:05:00.000000Z";
  m.duration_micros = 300'000'000;
  m.end_reason = "client closed";
  m.state = "complete";
  m.size = 123456;
  m.sha256_hex = std::string(64, 'b');
  m.key = "ed25519:" + std::string(64, 'c');
  Checkpoint cp = Sample();
  cp.signature.clear();
  m.checkpoints = {cp};
  return m;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(CheckpointLineTest, ExactTextAndRoundTrip) {
  const Checkpoint cp = Sample();
  EXPECT_EQ(CheckpointPayload(cp), "portcullis-checkpoint/1 a1b2c3.0 17 40960 83.000042 " + kHash +
                                       " 2026-11-22T10:00:05.123456Z");
  const std::string line = CheckpointLine(cp);
  EXPECT_EQ(line, CheckpointPayload(cp) + " " + Base64Encode(kSig) + "\n");
  EXPECT_LE(line.size(), kMaxCheckpointLine);
  for (std::string_view text : {std::string_view(line), std::string_view(line).substr(0, line.size() - 1)}) {
    auto parsed = ParseCheckpointLine(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->recording_id, cp.recording_id);
    EXPECT_EQ(parsed->seq, cp.seq);
    EXPECT_EQ(parsed->offset, cp.offset);
    EXPECT_EQ(parsed->elapsed_micros, cp.elapsed_micros);
    EXPECT_EQ(parsed->sha256_hex, cp.sha256_hex);
    EXPECT_EQ(parsed->utc, cp.utc);
    EXPECT_EQ(parsed->signature, kSig);
    EXPECT_EQ(CheckpointLine(*parsed), line);
  }
}

TEST(CheckpointLineTest, RefusesEveryMalformation) {
  const std::string good = CheckpointLine(Sample());
  const std::string b64 = Base64Encode(kSig);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "8 space-separated"},
      {Replace(good, "portcullis-checkpoint/1", "portcullis-checkpoint/2"), "not a portcullis"},
      {Replace(good, " 17 ", " 17  "), "8 space-separated"},
      {Replace(good, " 17 ", " 017 "), "bad seq"},
      {Replace(good, " 17 ", " -1 "), "bad seq"},
      {Replace(good, " 40960 ", " 99999999999999999999 "), "bad offset"},
      {Replace(good, "83.000042", "83.42"), "bad elapsed"},
      {Replace(good, "83.000042", "83"), "bad elapsed"},
      {Replace(good, kHash, std::string(64, 'A')), "bad sha256"},
      {Replace(good, kHash, std::string(63, 'a')), "bad sha256"},
      {Replace(good, "2026-11-22T10:00:05.123456Z", "2026-11-22T10:00:05Z"), "bad UTC"},
      {Replace(good, "2026-11-22T10:00:05.123456Z", "2026-13-22T10:00:05.123456Z"), "bad UTC"},
      {Replace(good, b64, b64.substr(4)), "bad signature"},
      {Replace(good, b64, std::string(88, '!')), "bad signature"},
      {Replace(good, "a1b2c3.0", "../x"), "bad recording id"},
      {Replace(good, "\n", " extra\n"), "8 space-separated"},
      {Replace(good, "\n", "\r\n"), "bad signature"},
      {good + std::string(600, 'x'), "too long"},
  };
  for (const auto& [line, want] : bad) {
    auto parsed = ParseCheckpointLine(line);
    ASSERT_FALSE(parsed.ok()) << line;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(parsed.status().message()).find(want), std::string::npos)
        << line << " -> " << parsed.status();
  }
}

TEST(ManifestTest, LayoutForShellTools) {
  const std::string json = ManifestJson(SampleManifest());
  EXPECT_EQ(json.substr(0, kManifestPrefix.size()), kManifestPrefix);
  EXPECT_TRUE(IsSealPayload(json));
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
  // `grep -m1 '"sha256"'` finds the top-level hash, before the checkpoints'.
  const size_t first = json.find("\"sha256\"");
  EXPECT_EQ(json.substr(first, 80), "\"sha256\": \"" + std::string(64, 'b') + "\",\n  ");
  EXPECT_LT(json.find("\"size\""), json.find("\"checkpoints\""));
  EXPECT_NE(json.find("\"command\": \"uname -a \\\"quoted\\\"\""), std::string::npos);
}

TEST(ManifestTest, RoundTrip) {
  const Manifest m = SampleManifest();
  const std::string json = ManifestJson(m);
  auto parsed = ParseManifest(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->user, "bob");
  EXPECT_EQ(parsed->roles, m.roles);
  EXPECT_EQ(parsed->certificate_serial, 42u);
  EXPECT_TRUE(parsed->record_input);
  ASSERT_EQ(parsed->checkpoints.size(), 1u);
  EXPECT_EQ(parsed->checkpoints[0].recording_id, "a1b2c3.0");
  EXPECT_EQ(parsed->checkpoints[0].offset, 40960u);
  EXPECT_EQ(ManifestJson(*parsed), json);
}

TEST(ManifestTest, InvalidUtf8MetadataDoesNotThrow) {
  Manifest m = SampleManifest();
  m.command = "cat \xff\xfe";
  std::string json;
  ASSERT_NO_THROW(json = ManifestJson(m));
  auto parsed = ParseManifest(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command, "cat \xef\xbf\xbd\xef\xbf\xbd");
}

TEST(ManifestTest, RefusesEveryMalformation) {
  const std::string good = ManifestJson(SampleManifest());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "does not start"},
      {"{\"format\": \"portcullis-recording-manifest/1\"}", "does not start"},
      {good.substr(0, good.size() - 3), "not valid JSON"},
      {Replace(good, "\"user\": \"bob\"", "\"user\": \"bob\",\n  \"admin\": true"), "unknown key"},
      {Replace(good, "\"user\": \"bob\"", "\"user\": \"bob\",\n  \"user\": \"eve\""), "twice"},
      {Replace(good, "  \"login\": \"maint\",\n", ""), "missing \"login\""},
      {Replace(good, "\"channel\": 0", "\"channel\": \"0\""), "\"channel\" must be"},
      {Replace(good, "\"channel\": 0", "\"channel\": -1"), "\"channel\" must be"},
      {Replace(good, "\"size\": 123456", "\"size\": 1.5"), "\"size\" must be"},
      {Replace(good, "\"record_input\": true", "\"record_input\": 1"), "true or false"},
      {Replace(good, "\"ops\"", "7"), "array of strings"},
      {Replace(good, std::string(64, 'b'), std::string(64, 'B')), "bad \"sha256\""},
      {Replace(good, "\"state\": \"complete\"", "\"state\": \"done\""), "bad \"state\""},
      {Replace(good, "\"failure\": \"\"", "\"failure\": \"disk full\""), "with a \"failure\""},
      {Replace(good, "\"recording_id\": \"a1b2c3.0\"", "\"recording_id\": \"a1b2c3.1\""),
       "<session_id>.<channel>"},
      {Replace(good, "\"recording_file\": \"a1b2c3.0.cast\"",
               "\"recording_file\": \"../a1b2c3.0.cast\""),
       "recording_file"},
      {Replace(good, "ed25519:", "rsa:"), "bad \"key\""},
      {Replace(good, "\"ended\": \"2026-11-22T10:05:00.000000Z\"", "\"ended\": \"yesterday\""),
       "bad \"ended\""},
      {Replace(good, "\"offset\": 40960", "\"offset\": [[[[[1]]]]]"), "nested too deeply"},
      {Replace(good, "\"offset\": 40960", "\"offset\": 40960, \"sig\": \"\""), "unknown key"},
      {good + std::string(kMaxManifestBytes, ' '), "larger than"},
  };
  for (const auto& [text, want] : bad) {
    auto parsed = ParseManifest(text);
    ASSERT_FALSE(parsed.ok()) << text.substr(0, 300);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(parsed.status().message()).find(want), std::string::npos)
        << want << " -> " << parsed.status();
  }
}

TEST(SealFormatTest, Helpers) {
  auto p = PathsFor("/rec/2026/11/22/a1b2.0.cast");
  EXPECT_EQ(p.recording, "/rec/2026/11/22/a1b2.0.cast");
  EXPECT_EQ(p.seal, "/rec/2026/11/22/a1b2.0.seal");
  EXPECT_EQ(p.manifest, "/rec/2026/11/22/a1b2.0.manifest.json");
  EXPECT_EQ(p.signature, "/rec/2026/11/22/a1b2.0.manifest.sig");
  EXPECT_EQ(PathsFor("/x.cast/rec").seal, "/x.cast/rec.seal");
  // Any format's extension; never a channel number.
  EXPECT_EQ(PathsFor("/rec/a1b2.3.tfr").manifest, "/rec/a1b2.3.manifest.json");
  EXPECT_EQ(PathsFor("/out/case-17.cast").seal, "/out/case-17.seal");
  EXPECT_EQ(PathsFor("/rec/a1b2.3").seal, "/rec/a1b2.3.seal");
  EXPECT_EQ(PathsFor("/rec/a1b2.3.CAST").seal, "/rec/a1b2.3.CAST.seal");
  auto side = PathsForSidecar("/rec/a1b2.0.manifest.json");
  ASSERT_TRUE(side.has_value());
  EXPECT_EQ(side->recording, "");
  EXPECT_EQ(side->seal, "/rec/a1b2.0.seal");
  EXPECT_EQ(side->signature, "/rec/a1b2.0.manifest.sig");
  EXPECT_EQ(PathsForSidecar("/rec/a1b2.0.seal")->manifest, "/rec/a1b2.0.manifest.json");
  EXPECT_EQ(PathsForSidecar("/rec/a1b2.0.manifest.sig")->manifest, "/rec/a1b2.0.manifest.json");
  EXPECT_FALSE(PathsForSidecar("/rec/a1b2.0.cast").has_value());
  EXPECT_FALSE(PathsForSidecar("/rec/.seal").has_value());
  EXPECT_TRUE(ValidMediaType("application/x-asciicast"));
  EXPECT_TRUE(ValidMediaType("asciicast/2"));  // what 0.1.0 wrote
  EXPECT_FALSE(ValidMediaType("application"));
  EXPECT_FALSE(ValidMediaType("Application/X"));
  EXPECT_FALSE(ValidMediaType("application/"));
  EXPECT_FALSE(ValidMediaType("a/b/c"));
  EXPECT_FALSE(ValidMediaType("text/plain; charset=utf-8"));
  EXPECT_TRUE(ValidExtension("cast"));
  EXPECT_TRUE(ValidExtension("mp4"));
  EXPECT_FALSE(ValidExtension("0"));
  EXPECT_FALSE(ValidExtension("4k"));
  EXPECT_FALSE(ValidExtension(""));
  EXPECT_FALSE(ValidExtension("tar.gz"));
  EXPECT_FALSE(ValidExtension(std::string(17, 'a')));
  EXPECT_TRUE(ValidRecordingId("a1b2c3.0"));
  EXPECT_FALSE(ValidRecordingId(".."));
  EXPECT_FALSE(ValidRecordingId("a/b"));
  EXPECT_FALSE(ValidRecordingId(std::string(81, 'a')));
  EXPECT_TRUE(IsSealPayload("portcullis-checkpoint/1 x"));
  EXPECT_FALSE(IsSealPayload("portcullis-checkpoint/1"));
  EXPECT_FALSE(IsSealPayload("ssh-ed25519 certificate to sign"));
  EXPECT_EQ(FormatElapsed(83'000'042), "83.000042");
  EXPECT_EQ(FormatElapsed(-5), "0.000000");
  const std::string id = RecordingKeyId(std::string(32, '\x01'));
  EXPECT_EQ(id, "ed25519:" + HexEncode(Sha256(std::string(32, '\x01'))));
  EXPECT_TRUE(JsonNestingWithin(R"({"a": "[[[[[[", "b": [1]})", 2));
  EXPECT_FALSE(JsonNestingWithin(R"({"a": [[1]]})", 2));
}

}  // namespace
}  // namespace portcullis::recorder
