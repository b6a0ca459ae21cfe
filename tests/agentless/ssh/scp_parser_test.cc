#include "agentless/ssh/scp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/common/encoding.h"

namespace portcullis::ssh {
namespace {

using namespace std::string_literals;

std::string HexSha(std::string_view s) { return HexEncode(Sha256(s)); }
const std::string kAck("\0", 1);

class ScpAuditorTest : public ::testing::Test {
 protected:
  void Start(const std::string& command, std::vector<std::string> expanded = {}) {
    auto cmd = ParseScpCommand(command);
    ASSERT_TRUE(cmd.ok()) << cmd.status();
    cmd->expanded = std::move(expanded);
    sink_got_.clear();
    source_got_.clear();
    upload_ = cmd->direction == FileDirection::kUpload;
    auditor_ = std::make_unique<ScpAuditor>(*cmd, [this](const FileTransferEvent& e) { events_.push_back(e); });
  }
  // Bytes from the sending side (client for -t, target for -f).
  absl::Status Src(std::string_view b) {
    return Collect(upload_ ? auditor_->FeedClientToServer(b) : auditor_->FeedServerToClient(b));
  }
  // Bytes from the receiving side.
  absl::Status Snk(std::string_view b) {
    return Collect(upload_ ? auditor_->FeedServerToClient(b) : auditor_->FeedClientToServer(b));
  }
  // Records what the relay would deliver to each side.
  absl::Status Collect(const RelayOutput& out) {
    for (auto v : upload_ ? out.to_server : out.to_client) sink_got_.append(v);
    for (auto v : upload_ ? out.to_client : out.to_server) source_got_.append(v);
    return out.status;
  }
  void Ok(absl::Status s) { ASSERT_TRUE(s.ok()) << s; }

  bool upload_ = true;
  std::string sink_got_, source_got_;
  std::unique_ptr<ScpAuditor> auditor_;
  std::vector<FileTransferEvent> events_;
};

TEST_F(ScpAuditorTest, UploadOneFileIntoDirectory) {
  Start("scp -t /tmp/in");
  Ok(Snk(kAck));
  Ok(Src("C0644 5 a.txt\n"));
  Ok(Snk(kAck));
  Ok(Src("hello"s + '\0'));
  EXPECT_TRUE(events_.empty()) << "emitted before the receiver acknowledged";
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/tmp/in/a.txt");
  EXPECT_EQ(events_[0].direction, FileDirection::kUpload);
  EXPECT_EQ(events_[0].size, 5u);
  EXPECT_EQ(events_[0].sha256_hex, HexSha("hello"));
  EXPECT_TRUE(events_[0].complete);
  EXPECT_EQ(auditor_->files_completed(), 1u);
}

TEST_F(ScpAuditorTest, UploadToExplicitFileName) {
  Start("scp -t /tmp/a.txt");
  Ok(Snk(kAck));
  Ok(Src("C0600 2 a.txt\n"));
  Ok(Snk(kAck));
  Ok(Src("hi"s + '\0'));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/tmp/a.txt");
}

TEST_F(ScpAuditorTest, PatternDownloadNamesEachFileFromTheExpansion) {
  Start("scp -r -f /var/log/f*/x", {"/var/log/f1/x", "/var/log/f2/x", "/var/log/f3/x/"});
  Ok(Snk(kAck));
  for (const char* body : {"one", "two"}) {
    Ok(Src("C0644 3 x\n"));
    Ok(Snk(kAck));
    Ok(Src(body + "\0"s));
    Ok(Snk(kAck));
  }
  Ok(Src("D0755 0 x\n"));
  Ok(Snk(kAck));
  Ok(Src("C0644 1 y\n"));
  Ok(Snk(kAck));
  Ok(Src("z\0"s));
  Ok(Snk(kAck));
  Ok(Src("E\n"));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[0].path, "/var/log/f1/x");
  EXPECT_EQ(events_[0].sha256_hex, HexSha("one"));
  EXPECT_EQ(events_[1].path, "/var/log/f2/x");
  EXPECT_EQ(events_[1].sha256_hex, HexSha("two"));
  EXPECT_EQ(events_[2].path, "/var/log/f3/x/y");
  for (const auto& e : events_) EXPECT_EQ(e.pattern, "/var/log/f*/x");
}

TEST_F(ScpAuditorTest, PatternWithoutExpansionKeepsTheRecordNameAndFlagsThePattern) {
  Start("scp -f /var/log/*.log");
  Ok(Snk(kAck));
  Ok(Src("C0644 1 a.log\n"));
  Ok(Snk(kAck));
  Ok(Src("a\0"s));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/var/log/a.log");
  EXPECT_EQ(events_[0].pattern, "/var/log/*.log");
}

TEST_F(ScpAuditorTest, NoPatternNoPatternField) {
  Start("scp -f /var/log/a.log");
  Ok(Snk(kAck));
  Ok(Src("C0644 1 a.log\n"));
  Ok(Snk(kAck));
  Ok(Src("a\0"s));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].pattern, "");
}

TEST_F(ScpAuditorTest, RecursiveDownloadWithTimes) {
  Start("scp -r -p -f /srv/data");
  Ok(Snk(kAck));
  for (const std::string& rec : {"T1700000000 0 1700000001 0\n"s, "D0755 0 data\n"s, "T1 0 2 0\n"s,
                                 "C0644 3 x\n"s}) {
    Ok(Src(rec));
    Ok(Snk(kAck));
  }
  Ok(Src("abc"s + '\0'));
  Ok(Snk(kAck));
  Ok(Src("D0700 0 sub\n"));
  Ok(Snk(kAck));
  Ok(Src("C0600 0 empty\n"));
  Ok(Snk(kAck));
  Ok(Src("\0"s));
  Ok(Snk(kAck));
  Ok(Src("E\n"));
  Ok(Snk(kAck));
  Ok(Src("E\n"));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].path, "/srv/data/x");
  EXPECT_EQ(events_[0].direction, FileDirection::kDownload);
  EXPECT_EQ(events_[0].sha256_hex, HexSha("abc"));
  EXPECT_EQ(events_[1].path, "/srv/data/sub/empty");
  EXPECT_EQ(events_[1].size, 0u);
  EXPECT_EQ(events_[1].sha256_hex, HexSha(""));
  EXPECT_TRUE(events_[1].complete);
}

TEST_F(ScpAuditorTest, RefusedFileIsSkippedByBothSides) {
  Start("scp -t /ro");
  Ok(Snk(kAck));
  Ok(Src("C0644 4 a\n"));
  Ok(Snk("\1scp: /ro/a: Permission denied\n"));
  // The sender goes on with the next file; no data for "a".
  Ok(Src("C0644 2 b\n"));
  Ok(Snk(kAck));
  Ok(Src("ok"s + '\0'));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/ro/b");
  EXPECT_EQ(events_[0].sha256_hex, HexSha("ok"));
}

TEST_F(ScpAuditorTest, BytesSentBeforeTheirAnswerAreHeld) {
  Start("scp -t /d");
  // A pipelining sender: everything before any answer.
  const std::string stream = "C0644 3 f\nxyz"s + '\0' + "C0644 1 g\n" + "Q" + '\0';
  Ok(Src(stream));
  EXPECT_EQ(sink_got_, "") << "nothing reaches the receiver before the auditor can read it";
  EXPECT_TRUE(events_.empty());
  Ok(Snk(kAck));
  EXPECT_EQ(sink_got_, "C0644 3 f\n");
  Ok(Snk(kAck + kAck + kAck + kAck));
  EXPECT_EQ(sink_got_, stream);
  EXPECT_EQ(source_got_, std::string(5, '\0'));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].sha256_hex, HexSha("xyz"));
  EXPECT_EQ(events_[1].sha256_hex, HexSha("Q"));
}

TEST_F(ScpAuditorTest, HeldBadRecordIsNeverDelivered) {
  Start("scp -t /d");
  Ok(Snk(kAck));
  Ok(Src("C0644 1 f\n"));
  // Sent ahead of the answer: a good file, then a record the auditor refuses.
  Ok(Src("x"s + '\0' + "C0644 1 ../../etc/cron.d/x\n" + "y"s + '\0'));
  EXPECT_EQ(sink_got_, "C0644 1 f\n");
  EXPECT_FALSE(Snk(kAck + kAck).ok());
  EXPECT_EQ(sink_got_, "C0644 1 f\nx"s + '\0') << "only what was interpreted before the bad record";
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_TRUE(events_[0].complete);
}

TEST_F(ScpAuditorTest, DataPassesThroughWithoutBeingHeld) {
  Start("scp -t /d");
  Ok(Snk(kAck));
  Ok(Src("C0644 10 f\n"));
  Ok(Snk(kAck));
  sink_got_.clear();
  Ok(Src("01234"));
  EXPECT_EQ(sink_got_, "01234");
  Ok(Src("56789"s + '\0'));
  EXPECT_EQ(sink_got_, "0123456789"s + '\0');
}

TEST_F(ScpAuditorTest, BacklogIsBounded) {
  Start("scp -t /d");
  Ok(Snk(kAck));
  Ok(Src("C0644 1000000 f\n"));
  EXPECT_FALSE(Src(std::string(ScpAuditor::kMaxBacklog + 1, 'x')).ok());
}

TEST_F(ScpAuditorTest, ByteByByteConversation) {
  Start("scp -r -t /dst");
  const std::vector<std::pair<bool, std::string>> script = {
      {false, kAck},         {true, "D0755 0 dir\n"}, {false, kAck}, {true, "C0644 6 file\n"},
      {false, kAck},         {true, "abcdef"s + '\0'}, {false, kAck}, {true, "E\n"},
      {false, kAck},
  };
  for (const auto& [src, bytes] : script) {
    for (char c : bytes) Ok(src ? Src(std::string(1, c)) : Snk(std::string(1, c)));
  }
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/dst/dir/file");
  EXPECT_EQ(events_[0].sha256_hex, HexSha("abcdef"));
}

TEST_F(ScpAuditorTest, BadRecordsAreErrors) {
  struct Case {
    std::string name, cmd, record;
  };
  const std::string long_name(ScpAuditor::kMaxLine - 7, 'n');  // "C0644 1 " + name = kMaxLine + 1
  const Case cases[] = {
      {"dotdot", "scp -t /d", "C0644 1 ..\n"},
      {"dot", "scp -t /d", "C0644 1 .\n"},
      {"slash", "scp -t /d", "C0644 1 a/b\n"},
      {"empty name", "scp -t /d", "C0644 1 \n"},
      {"bad mode", "scp -t /d", "C0844 1 a\n"},
      {"short mode", "scp -t /d", "C644 1 a\n"},
      {"no size", "scp -t /d", "C0644 a\n"},
      {"size too big", "scp -t /d", "C0644 9223372036854775808 a\n"},
      {"negative size", "scp -t /d", "C0644 -1 a\n"},
      {"unknown record", "scp -t /d", "X\n"},
      {"empty line", "scp -t /d", "\n"},
      {"dir without -r", "scp -t /d", "D0755 0 a\n"},
      {"E at top", "scp -r -t /d", "E\n"},
      {"E with junk", "scp -r -t /d", "Ex\n"},
      {"bad T", "scp -p -t /d", "T1 0 2\n"},
      {"T usec range", "scp -p -t /d", "T1 1000000 2 0\n"},
      {"NUL", "scp -t /d", "C0644 1 a\0b\n"s},
      {"too long", "scp -t /d", "C0644 1 " + long_name + "\n"},
  };
  for (const auto& c : cases) {
    events_.clear();
    Start(c.cmd);
    Ok(Snk(kAck));
    EXPECT_FALSE(Src(c.record).ok()) << c.name;
    EXPECT_FALSE(Snk(kAck).ok()) << c.name << ": errors are sticky";
  }
}

TEST_F(ScpAuditorTest, LongestAcceptedLine) {
  Start("scp -t /d");
  Ok(Snk(kAck));
  Ok(Src("C0644 1 " + std::string(ScpAuditor::kMaxLine - 8, 'n') + "\n"));
  Ok(Src("C0644 9223372036854775807 a"));  // held: no answer yet
}

TEST_F(ScpAuditorTest, SenderReadErrorMakesFileIncomplete) {
  Start("scp -f /etc/shadow");
  Ok(Snk(kAck));
  Ok(Src("C0600 4 shadow\n"));
  Ok(Snk(kAck));
  Ok(Src("\0\0\0\0"s + "\1scp: /etc/shadow: Input/output error\n"));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/etc/shadow");
  EXPECT_FALSE(events_[0].complete);
  EXPECT_EQ(events_[0].incomplete_reason, "the sender reported a read error");
}

TEST_F(ScpAuditorTest, ReceiverWriteErrorMakesFileIncomplete) {
  Start("scp -t /full");
  Ok(Snk(kAck));
  Ok(Src("C0644 2 f\n"));
  Ok(Snk(kAck));
  Ok(Src("ab"s + '\0'));
  Ok(Snk("\1scp: /full/f: No space left on device\n"));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_FALSE(events_[0].complete);
  EXPECT_EQ(events_[0].size, 2u);
}

TEST_F(ScpAuditorTest, SenderWarningNeedsNoAnswer) {
  Start("scp -f /srv/*");
  Ok(Snk(kAck));
  Ok(Src("\1scp: /srv/dev: not a regular file\nC0644 1 f\n"));
  Ok(Snk(kAck));
  Ok(Src("F"s + '\0'));
  Ok(Snk(kAck));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].path, "/srv/f");
}

TEST_F(ScpAuditorTest, FatalAnswerEndsTheTransfer) {
  Start("scp -t /d");
  Ok(Snk(kAck));
  Ok(Src("C0644 1 f\n"));
  Ok(Snk("\2scp: fatal\n"));
  Ok(Src("anything at all, the receiver is gone"));
  auditor_->Finish();
  EXPECT_TRUE(events_.empty());
}

TEST_F(ScpAuditorTest, FinishMidFileReportsPartialTransfer) {
  Start("scp -t /d");
  Ok(Snk(kAck));
  Ok(Src("C0644 1099511627776 huge\n"));
  Ok(Snk(kAck));
  Ok(Src(std::string(1000, 'z')));
  auditor_->Finish();
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].size, 1000u);
  EXPECT_FALSE(events_[0].complete);
  EXPECT_EQ(events_[0].sha256_hex, "");
  EXPECT_FALSE(Src("x").ok());
}

TEST_F(ScpAuditorTest, TooManyAnswersIsAnError) {
  Start("scp -t /d");
  EXPECT_FALSE(Snk(std::string(ScpAuditor::kMaxQueuedAnswers + 2, '\0')).ok());
}

}  // namespace
}  // namespace portcullis::ssh
