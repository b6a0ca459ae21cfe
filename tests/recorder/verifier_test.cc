// Offline verification: one test per way a sealed recording can be damaged
// or forged, each checking the verdict, the message and the bad range.
#include "recorder/verifier.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "broker/common/encoding.h"
#include "recorder/asciicast_factory.h"
#include "tests/recorder/recording_files.h"
#include "tests/recorder/test_signer.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

using namespace std::chrono_literals;
using testing::ReadWholeFile;
using testing::WriteWholeFile;

std::string Read(const std::string& path) {
  auto data = ReadWholeFile(path);
  EXPECT_TRUE(data.ok()) << data.status();
  return data.value_or("");
}

void Write(const std::string& path, const std::string& data) {
  ASSERT_TRUE(WriteWholeFile(path, data, 0600).ok()) << path;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class VerifierTest : public ::testing::Test {
 protected:
  // Records session `id`: 12 output events one second apart, a checkpoint
  // every 256 bytes. Closed (sealed by a manifest) unless `crash`: then the
  // .cast and .seal are copied aside as a killed writer leaves them (every
  // byte checkpointed) and that copy is returned.
  std::string Record(const std::string& id, bool crash = false) {
    AsciicastFactoryOptions opts;
    opts.dir = dir_.Join("rec");
    opts.min_free_bytes = 0;
    opts.signer = &signer_;
    opts.checkpoint_bytes = 256;
    AsciicastFactory factory(opts, &clock_);
    session::RecordingInfo info;
    info.session_id = id;
    info.user = "bob";
    info.login = "maint";
    info.target = "rtu-01";
    info.protocol = "ssh";
    info.started = clock_.Now();
    auto rec = factory.OpenTerminal(info);
    EXPECT_TRUE(rec.ok()) << rec.status();
    if (!rec.ok()) return "";
    const std::string path = factory.PathFor(info, info.started);
    for (int i = 0; i < 12; ++i) {
      clock_.Advance(1s);
      (*rec)->Output(fmt::format("line {:02} of the maintenance session output\r\n", i));
      std::this_thread::sleep_for(2ms);  // separate writes, several checkpoints
    }
    std::string copy = path;
    if (crash) {
      const RecordingPaths files = PathsFor(path);
      auto deadline = std::chrono::steady_clock::now() + 5s;
      while ((*rec)->Backlog() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
      }
      clock_.Advance(5s);  // the idle tick seals the rest
      for (;;) {
        auto lines = testing::SplitLines(Read(files.seal));
        auto last = ParseCheckpointLine(lines.empty() ? "" : lines.back());
        if (last.ok() && last->offset == Read(path).size()) break;
        if (std::chrono::steady_clock::now() > deadline) {
          ADD_FAILURE() << "the recording was not fully checkpointed";
          break;
        }
        std::this_thread::sleep_for(10ms);
      }
      std::filesystem::create_directories(dir_.Join("crash"));
      copy = dir_.Join("crash/" + id + ".0.cast");
      Write(copy, Read(path));
      Write(PathsFor(copy).seal, Read(files.seal));
    }
    EXPECT_TRUE((*rec)->Close("client closed").ok());
    return copy;
  }

  VerifyReport Verify(const std::string& path, uint64_t cap = uint64_t{16} << 30) {
    VerifyRequest req;
    req.recording_path = path;
    req.public_key_raw = signer_.RecordingPublicKey();
    req.max_recording_bytes = cap;
    VerifyReport r = VerifyRecording(req);
    EXPECT_EQ(r.message.find('\n'), std::string::npos) << r.message;
    const std::string verdict = VerdictName(r.verdict);
    EXPECT_EQ(r.message.rfind(verdict, 0), 0u) << r.message;
    EXPECT_TRUE(r.message.size() > verdict.size() &&
                (r.message[verdict.size()] == ':' || r.message[verdict.size()] == ' '))
        << r.message;
    return r;
  }

  Manifest ManifestOf(const std::string& path) {
    auto m = ParseManifest(Read(PathsFor(path).manifest));
    EXPECT_TRUE(m.ok()) << m.status();
    return m.value_or(Manifest{});
  }

  // The sealed range [begin, end) holding byte `at`, and its label.
  struct Range {
    uint64_t begin = 0, end = 0;
    int64_t t0 = 0, t1 = 0;
    std::string label;
  };
  Range SealedRangeOf(const Manifest& m, uint64_t at) {
    Range r;
    for (const Checkpoint& cp : m.checkpoints) {
      if (at < cp.offset) {
        r.end = cp.offset;
        r.t1 = cp.elapsed_micros;
        r.label = fmt::format("checkpoint {}", cp.seq);
        return r;
      }
      r.begin = cp.offset;
      r.t0 = cp.elapsed_micros;
    }
    r.end = m.size;
    r.t1 = m.duration_micros;
    r.label = "the manifest";
    return r;
  }

  std::string Signed(const ca::Ed25519Key& key, const std::string& payload) {
    auto sig = key.Sign(payload);
    EXPECT_TRUE(sig.ok());
    return sig.value_or("");
  }

  testing::TempDir dir_{"pc-verify"};
  testing::TestSigner signer_;
  FakeClock clock_{1'795'424'400};
};

TEST_F(VerifierTest, SealedRecordingIsValid) {
  const std::string path = Record("ok");
  const Manifest m = ManifestOf(path);
  ASSERT_GE(m.checkpoints.size(), 3u);
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.message;
  EXPECT_EQ(r.message, fmt::format("VALID: {} bytes, sha256 {}, sealed {}", m.size, m.sha256_hex,
                                   m.ended));
  EXPECT_EQ(r.recording_id, "ok.0");
  EXPECT_EQ(r.valid_bytes, m.size);
  EXPECT_EQ(r.file_size, m.size);
  EXPECT_EQ(r.valid_until_micros, 12'000'000);
  ASSERT_TRUE(r.manifest.has_value());
  EXPECT_EQ(r.manifest->user, "bob");
}

TEST_F(VerifierTest, TruncatedFile) {
  const std::string path = Record("cut");
  const Manifest m = ManifestOf(path);
  const std::string cast = Read(path);
  const uint64_t cut = cast.size() - 10;
  Write(path, cast.substr(0, cut));
  const Range want = SealedRangeOf(m, cut);
  ASSERT_EQ(want.end, m.size);  // the final checkpoint covers the whole file
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.bad_begin, want.begin);
  EXPECT_EQ(r.bad_end, m.size);
  EXPECT_EQ(r.valid_bytes, want.begin);
  EXPECT_EQ(r.message,
            fmt::format("INVALID: bytes {}-{} (00:00:{:02}-00:00:{:02}) are missing: the file has "
                        "{} bytes, {} seals {}",
                        want.begin, m.size - 1, want.t0 / 1'000'000, want.t1 / 1'000'000, cut,
                        want.label, m.size));
}

TEST_F(VerifierTest, EditedByte) {
  const std::string path = Record("edit");
  const Manifest m = ManifestOf(path);
  std::string cast = Read(path);
  const size_t at = cast.find("line 07");
  ASSERT_NE(at, std::string::npos);
  cast[at + 5] = '9';  // "line 97": same size, one byte differs
  Write(path, cast);
  const Range want = SealedRangeOf(m, at + 5);
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.bad_begin, want.begin);
  EXPECT_EQ(r.bad_end, want.end);
  EXPECT_LE(*r.bad_begin, at + 5);
  EXPECT_GT(*r.bad_end, at + 5);
  EXPECT_EQ(r.valid_bytes, want.begin);  // everything before the range still verifies
  EXPECT_EQ(r.message, fmt::format("INVALID: bytes {}-{} (00:00:{:02}-00:00:{:02}) differ from {}",
                                   want.begin, want.end - 1, want.t0 / 1'000'000,
                                   want.t1 / 1'000'000, want.label));
}

TEST_F(VerifierTest, ReorderedLines) {
  const std::string path = Record("swap");
  const Manifest m = ManifestOf(path);
  std::string cast = Read(path);
  auto lines = testing::SplitLines(cast);
  ASSERT_GT(lines.size(), 6u);
  std::swap(lines[4], lines[5]);
  std::string swapped;
  for (const auto& l : lines) swapped += l + "\n";
  ASSERT_EQ(swapped.size(), cast.size());
  Write(path, swapped);
  size_t first_diff = 0;
  while (swapped[first_diff] == cast[first_diff]) ++first_diff;
  const Range want = SealedRangeOf(m, first_diff);
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.bad_begin, want.begin);
  EXPECT_EQ(r.bad_end, want.end);
  EXPECT_TRUE(Contains(r.message, "differ from " + want.label)) << r.message;
}

TEST_F(VerifierTest, ResignedWithAnotherKey) {
  const std::string path = Record("forged");
  const RecordingPaths files = PathsFor(path);
  // The forger edits the recording and writes a consistent manifest, but can
  // only sign it with a key of their own.
  std::string cast = Read(path);
  cast.replace(cast.find("line 03"), 7, "line 33");
  Write(path, cast);
  Manifest m = ManifestOf(path);
  m.size = cast.size();
  m.sha256_hex = HexEncode(Sha256(cast));
  m.checkpoints.clear();
  const ca::Ed25519Key forger = ca::Ed25519Key::Generate();
  m.key = RecordingKeyId(forger.PublicRaw());
  std::string json = ManifestJson(m);
  Write(files.manifest, json);
  Write(files.signature, Signed(forger, json));
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, fmt::format("INVALID: the manifest is signed by another key ({}), not by {}",
                                   RecordingKeyId(forger.PublicRaw()),
                                   RecordingKeyId(signer_.RecordingPublicKey())));
  EXPECT_FALSE(r.manifest.has_value());

  // Keeping our key's id does not help.
  m.key = RecordingKeyId(signer_.RecordingPublicKey());
  json = ManifestJson(m);
  Write(files.manifest, json);
  Write(files.signature, Signed(forger, json));
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "the manifest's signature does not verify with ed25519:"))
      << r.message;
}

TEST_F(VerifierTest, EditedManifest) {
  const std::string path = Record("mani");
  const std::string mp = PathsFor(path).manifest;
  std::string json = Read(mp);
  json.replace(json.find("\"user\": \"bob\""), 13, "\"user\": \"eve\"");
  Write(mp, json);
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "signature does not verify")) << r.message;
}

TEST_F(VerifierTest, ManifestOfAnotherRecording) {
  const std::string a = Record("alpha");
  const std::string b = Record("bravo");
  Write(PathsFor(b).manifest, Read(PathsFor(a).manifest));
  Write(PathsFor(b).signature, Read(PathsFor(a).signature));
  auto r = Verify(b);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.recording_id, "alpha.0");  // what the signed manifest says
  EXPECT_EQ(r.bad_begin, 0u);
  EXPECT_TRUE(Contains(r.message, "differ from checkpoint 0 (they are sealed as recording "
                                  "alpha.0, the file is named as recording bravo.0)"))
      << r.message;
}

TEST_F(VerifierTest, RecordingOverTheSizeCap) {
  const std::string path = Record("big");
  const uint64_t size = Read(path).size();
  auto r = Verify(path, 1000);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, fmt::format("INVALID: the recording is {} bytes, over the size cap of 1000 "
                                   "bytes", size));
  EXPECT_EQ(Verify(path, size).verdict, Verdict::kValid);
}

TEST_F(VerifierTest, GarbageBytes) {
  const std::string path = Record("junk");
  const std::string cast = Read(path);
  const Manifest m = ManifestOf(path);

  Write(path, cast + "[99.0, \"o\", \"injected\"]\n");  // appended after the seal
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.bad_begin, m.size);
  EXPECT_TRUE(Contains(r.message, fmt::format("were added after the sealed end at byte {}", m.size)))
      << r.message;

  Write(path, RandomBytes(cast.size()));  // not a recording at all
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.bad_begin, 0u);
  EXPECT_TRUE(Contains(r.message, "differ from checkpoint 0")) << r.message;

  Write(path, cast);
  Write(PathsFor(path).manifest, RandomBytes(5000));  // a garbage manifest
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "signature does not verify")) << r.message;

  Write(PathsFor(path).signature, "short");  // a garbage signature
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "is not a 64-byte Ed25519 signature")) << r.message;
}

TEST_F(VerifierTest, MissingManifestOrSeal) {
  const std::string path = Record("gone");
  const RecordingPaths files = PathsFor(path);
  ASSERT_EQ(::unlink(files.signature.c_str()), 0);
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, "INVALID: the manifest is not signed: no " + files.signature);

  ASSERT_EQ(::unlink(files.manifest.c_str()), 0);  // and no seal either
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, "INVALID: no manifest (" + files.manifest + ") and no seal (" +
                           files.seal + "): nothing proves this recording");

  VerifyRequest req;
  req.recording_path = dir_.Join("nothing.0.cast");
  req.public_key_raw = signer_.RecordingPublicKey();
  r = VerifyRecording(req);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "cannot open")) << r.message;
}

TEST_F(VerifierTest, CrashedRecordingIsTruncatedWithItsProvenPrefix) {
  const std::string path = Record("crash", /*crash=*/true);
  const std::string cast = Read(path);
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kTruncated) << r.message;
  EXPECT_EQ(r.valid_bytes, cast.size());
  EXPECT_EQ(r.valid_until_micros, 12'000'000);
  EXPECT_TRUE(Contains(r.message, "TRUNCATED at 00:00:12: the first")) << r.message;
  EXPECT_TRUE(Contains(r.message, "; 0 bytes after it are not sealed")) << r.message;

  // Bytes written after the last checkpoint are not proven, but not wrong.
  Write(path, cast + "[20.0, \"o\", \"unsealed tail\"]\n");
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kTruncated) << r.message;
  EXPECT_EQ(r.valid_bytes, cast.size());
}

TEST_F(VerifierTest, TamperedSeal) {
  const std::string path = Record("seal", /*crash=*/true);
  const RecordingPaths files = PathsFor(path);
  const std::string seal = Read(files.seal);
  auto lines = testing::SplitLines(seal);
  ASSERT_GE(lines.size(), 3u);
  auto join = [](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };

  auto swapped = lines;
  std::swap(swapped[1], swapped[2]);
  Write(files.seal, join(swapped));
  auto r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, "INVALID: seal line 2: checkpoint 2 where 1 was expected (lines removed, "
                       "repeated or reordered)");

  // Re-signed by another key.
  const ca::Ed25519Key forger = ca::Ed25519Key::Generate();
  auto forged = lines;
  auto cp = ParseCheckpointLine(forged[1]);
  ASSERT_TRUE(cp.ok());
  cp->signature = Signed(forger, CheckpointPayload(*cp));
  forged[1] = CheckpointLine(*cp).substr(0, CheckpointLine(*cp).size() - 1);
  Write(files.seal, join(forged));
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "seal line 2: the signature of checkpoint 1 does not verify"))
      << r.message;

  Write(files.seal, "garbage\n" + seal);
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, "INVALID: seal line 1: checkpoint: not 8 space-separated fields");

  Write(files.seal, "");
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "holds no checkpoint")) << r.message;

  // An edited byte in a checkpointed range.
  Write(files.seal, seal);
  std::string cast = Read(path);
  const size_t at = cast.find("line 10");
  ASSERT_NE(at, std::string::npos);
  cast[at] = 'L';
  Write(path, cast);
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  ASSERT_TRUE(r.bad_begin.has_value() && r.bad_end.has_value());
  EXPECT_LE(*r.bad_begin, at);
  EXPECT_GT(*r.bad_end, at);
  EXPECT_TRUE(Contains(r.message, "differ from checkpoint")) << r.message;

  // The file cut below its last checkpoint.
  Write(path, Read(path).substr(0, at));
  r = Verify(path);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_TRUE(Contains(r.message, "are missing")) << r.message;
}

TEST_F(VerifierTest, SealOfAnotherRecording) {
  const std::string a = Record("first", /*crash=*/true);
  const std::string b = Record("second", /*crash=*/true);
  const auto b_lines = testing::SplitLines(Read(PathsFor(b).seal));
  Write(PathsFor(b).seal, Read(PathsFor(a).seal));
  auto r = Verify(b);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.recording_id, "first.0");  // what the signed checkpoints say
  EXPECT_TRUE(Contains(r.message, "differ from checkpoint 0 (they are sealed as recording "
                                  "first.0, the file is named as recording second.0)"))
      << r.message;

  // Checkpoints of two recordings in one seal.
  const auto a_lines = testing::SplitLines(Read(PathsFor(a).seal));
  ASSERT_GE(a_lines.size(), 1u);
  ASSERT_GE(b_lines.size(), 2u);
  Write(PathsFor(b).seal, b_lines[0] + "\n" + a_lines[0] + "\n");
  r = Verify(b);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.message, "INVALID: seal line 2: the checkpoint names recording first.0, but the "
                       "seal is for recording second.0");
}

TEST(RecordingPublicKeyTest, PemSshLineAndRaw) {
  const ca::Ed25519Key key = ca::Ed25519Key::Generate();
  const std::string raw = key.PublicRaw();
  const std::string pem = RecordingPublicKeyPem(raw);
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(ParseRecordingPublicKey(pem).value_or(""), raw);
  EXPECT_EQ(ParseRecordingPublicKey(key.AuthorizedKeyLine("recording") + "\n").value_or(""), raw);
  EXPECT_EQ(ParseRecordingPublicKey(raw).value_or(""), raw);
  EXPECT_FALSE(ParseRecordingPublicKey("").ok());
  EXPECT_FALSE(ParseRecordingPublicKey("-----BEGIN PUBLIC KEY-----\ngarbage\n").ok());
  EXPECT_FALSE(ParseRecordingPublicKey(std::string(10000, 'a')).ok());
  EXPECT_FALSE(ParseRecordingPublicKey("ssh-ed25519 AAAA").ok());
}

}  // namespace
}  // namespace portcullis::recorder
