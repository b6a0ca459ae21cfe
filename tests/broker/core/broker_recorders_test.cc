// The broker's recorder factory writes under the data directory's
// recordings/ with the broker clock.
#include <gtest/gtest.h>

#include "broker/common/files.h"
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
}

}  // namespace
}  // namespace portcullis::testing
