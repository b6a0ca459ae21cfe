// The broker's recorder factory writes under the data directory's
// recordings/ with the broker clock, sealed with the broker's recording key.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "auth/ca/ed25519_key.h"
#include "broker/common/files.h"
#include "recorder/verifier.h"
#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {
namespace {

TEST(BrokerRecordersTest, RecordsUnderTheRecordingsDirectory) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  core::Broker& broker = env.broker();
  ASSERT_TRUE(broker.recorders().Ready().ok());
  session::RecordingInfo info;
  info.session_id = broker.sessions().NewId();
  info.user = "alice";
  auto rec = broker.recorders().OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  (*rec)->Output("hello\r\n");
  ASSERT_TRUE((*rec)->Close("client closed").ok());
  // BrokerEnv's clock starts at 2026-11-23T09:00:00Z.
  const std::string path =
      broker.config().RecordingsDir() + "/2026/11/23/" + info.session_id + ".0.cast";
  auto text = ReadWholeFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find(R"("timestamp":1795424400)"), std::string::npos);
  EXPECT_NE(text->find(R"([0.000000, "o", "hello\r\n"])"), std::string::npos);

  recorder::VerifyRequest req;
  req.recording_path = path;
  req.public_key_raw = broker.recording_signer().RecordingPublicKey();
  recorder::VerifyReport report = recorder::VerifyRecording(req);
  EXPECT_EQ(report.verdict, recorder::Verdict::kValid) << report.message;
}

TEST(BrokerRecordersTest, RecordingKeyIsCreatedOnceAndSignsOnlySeals) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  const std::string key_path = env.broker().config().KeysDir() + "/recording_ed25519";
  struct stat st;
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  session::RecordingSigner& signer = env.broker().recording_signer();
  auto again = ca::Ed25519Key::LoadPrivateFile(key_path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->PublicRaw(), signer.RecordingPublicKey());
  auto refused = signer.SignRecordingSeal("ssh-ed25519-cert-v01@openssh.com anything");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  auto sig = signer.SignRecordingSeal("portcullis-checkpoint/1 x.0 0 0 0.000000 ...");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->size(), 64u);
}

}  // namespace
}  // namespace portcullis::testing
