#include "agentless/ssh/sftp_parser.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "broker/common/encoding.h"
#include "tests/agentless/ssh/sftp_test_packets.h"

namespace portcullis::ssh {
namespace {

namespace pk = testpk;
using sftp::kFxfCreat;
using sftp::kFxfRead;
using sftp::kFxfTrunc;
using sftp::kFxfWrite;

std::string HexSha(std::string_view s) { return HexEncode(Sha256(s)); }

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string Joined(const std::vector<std::string_view>& parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

class SftpAuditorTest : public ::testing::Test {
 protected:
  SftpAuditorTest() { Reset({}); }

  void Reset(std::function<bool(const SftpRequest&)> allow) {
    transfers_.clear();
    ops_.clear();
    auditor_ = std::make_unique<SftpAuditor>(SftpAuditor::Callbacks{
        [this](const FileTransferEvent& e) { transfers_.push_back(e); },
        [this](const FileOpEvent& e) { ops_.push_back(e); }, std::move(allow)});
  }

  // Feeds client bytes; expects success and everything forwarded unchanged.
  void C(const std::string& bytes) {
    auto f = auditor_->FeedClientToServer(bytes);
    ASSERT_TRUE(f.ok()) << f.status;
    EXPECT_EQ(Joined(f.to_server), bytes);
    EXPECT_EQ(Joined(f.to_client), "");
  }
  void S(const std::string& bytes) {
    auto f = auditor_->FeedServerToClient(bytes);
    ASSERT_TRUE(f.ok()) << f.status;
    EXPECT_EQ(Joined(f.to_client), bytes);
    EXPECT_TRUE(f.to_server.empty());
  }
  void Handshake() {
    C(pk::Init());
    S(pk::Version());
  }

  std::unique_ptr<SftpAuditor> auditor_;
  std::vector<FileTransferEvent> transfers_;
  std::vector<FileOpEvent> ops_;
};

TEST_F(SftpAuditorTest, DownloadInThreePipelinedReads) {
  const std::string content = Pattern(70000, 1);
  Handshake();
  C(pk::Open(1, "/srv/plc/config.bin", kFxfRead));
  S(pk::Handle(1, std::string("\0\0\0\0", 4)));
  const std::string h("\0\0\0\0", 4);
  C(pk::Read(2, h, 0, 32768) + pk::Read(3, h, 32768, 32768) + pk::Read(4, h, 65536, 32768));
  S(pk::Data(2, content.substr(0, 32768)));
  S(pk::Data(3, content.substr(32768, 32768)) + pk::Data(4, content.substr(65536)));
  C(pk::Read(5, h, 70000, 32768));
  S(pk::Status(5, sftp::kFxEof));
  EXPECT_TRUE(transfers_.empty());
  C(pk::Close(6, h));
  EXPECT_TRUE(transfers_.empty()) << "emitted before the target answered CLOSE";
  S(pk::Status(6, sftp::kFxOk));
  ASSERT_EQ(transfers_.size(), 1u);
  const auto& e = transfers_[0];
  EXPECT_EQ(e.path, "/srv/plc/config.bin");
  EXPECT_EQ(e.direction, FileDirection::kDownload);
  EXPECT_EQ(e.size, 70000u);
  EXPECT_EQ(e.sha256_hex, HexSha(content));
  EXPECT_TRUE(e.complete);
  EXPECT_EQ(e.incomplete_reason, "");
  auditor_->Finish();
  EXPECT_EQ(transfers_.size(), 1u);
}

TEST_F(SftpAuditorTest, UploadWithWrites) {
  const std::string content = Pattern(100000, 2);
  Handshake();
  C(pk::Open(7, "upload/fw.img", kFxfWrite | kFxfCreat | kFxfTrunc));
  S(pk::Handle(7, "h1"));
  for (uint32_t i = 0, off = 0; off < content.size(); ++i, off += 32768) {
    C(pk::Write(100 + i, "h1", off, content.substr(off, 32768)));
  }
  for (uint32_t i = 0; i < 4; ++i) S(pk::Status(100 + i, sftp::kFxOk));
  C(pk::Close(200, "h1"));
  S(pk::Status(200, sftp::kFxOk));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_EQ(transfers_[0].path, "upload/fw.img");
  EXPECT_EQ(transfers_[0].direction, FileDirection::kUpload);
  EXPECT_EQ(transfers_[0].size, content.size());
  EXPECT_EQ(transfers_[0].sha256_hex, HexSha(content));
  EXPECT_TRUE(transfers_[0].complete);
}

TEST_F(SftpAuditorTest, WriteRefusedByTargetMakesUploadIncomplete) {
  Handshake();
  C(pk::Open(1, "f", kFxfWrite | kFxfCreat));
  S(pk::Handle(1, "h"));
  C(pk::Write(2, "h", 0, "abc"));
  S(pk::Status(2, sftp::kFxFailure));
  C(pk::Close(3, "h"));
  S(pk::Status(3, sftp::kFxOk));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_FALSE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].sha256_hex, "");
  EXPECT_EQ(transfers_[0].incomplete_reason, "the target refused a write");
}

TEST_F(SftpAuditorTest, OutOfOrderDataWithinBoundIsHashedInOffsetOrder) {
  const std::string content = Pattern(30000, 3);
  Handshake();
  C(pk::Open(1, "a", kFxfRead));
  S(pk::Handle(1, "h"));
  C(pk::Read(10, "h", 0, 10000) + pk::Read(11, "h", 10000, 10000) + pk::Read(12, "h", 20000, 10000));
  S(pk::Data(12, content.substr(20000)));
  S(pk::Data(10, content.substr(0, 10000)));
  S(pk::Data(11, content.substr(10000, 10000)));
  C(pk::Close(13, "h"));
  S(pk::Status(13, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_TRUE(transfers_[0].complete) << transfers_[0].incomplete_reason;
  EXPECT_EQ(transfers_[0].sha256_hex, HexSha(content));
}

TEST_F(SftpAuditorTest, ShortReadThenRetryIsStillSequential) {
  // sftp-server may return fewer bytes than asked; clients re-request the rest.
  const std::string content = Pattern(20000, 4);
  Handshake();
  C(pk::Open(1, "a", kFxfRead));
  S(pk::Handle(1, "h"));
  C(pk::Read(2, "h", 0, 10000) + pk::Read(3, "h", 10000, 10000));
  S(pk::Data(2, content.substr(0, 4000)) + pk::Data(3, content.substr(10000)));
  C(pk::Read(4, "h", 4000, 6000));
  S(pk::Data(4, content.substr(4000, 6000)));
  C(pk::Close(5, "h"));
  S(pk::Status(5, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_TRUE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].sha256_hex, HexSha(content));
}

TEST_F(SftpAuditorTest, GapNeverFilledIsIncomplete) {
  Handshake();
  C(pk::Open(1, "a", kFxfRead));
  S(pk::Handle(1, "h"));
  C(pk::Read(2, "h", 0, 10) + pk::Read(3, "h", 20, 10));
  S(pk::Data(2, Pattern(10, 5)) + pk::Data(3, Pattern(10, 6)));
  C(pk::Close(4, "h"));
  S(pk::Status(4, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_FALSE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].size, 20u);
  EXPECT_EQ(transfers_[0].sha256_hex, "");
  EXPECT_NE(transfers_[0].incomplete_reason.find("non-sequential"), std::string::npos);
}

TEST_F(SftpAuditorTest, RewindIsIncomplete) {
  Handshake();
  C(pk::Open(1, "a", kFxfWrite));
  S(pk::Handle(1, "h"));
  C(pk::Write(2, "h", 0, "0123456789"));
  C(pk::Write(3, "h", 5, "XXXXX"));  // overwrites already-hashed bytes
  C(pk::Close(4, "h"));
  S(pk::Status(2, 0) + pk::Status(3, 0) + pk::Status(4, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_FALSE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].size, 15u);
}

TEST_F(SftpAuditorTest, ReorderBufferOverflowIsIncompleteNotAnError) {
  Handshake();
  C(pk::Open(1, "big", kFxfRead));
  S(pk::Handle(1, "h"));
  const std::string chunk = Pattern(256 * 1024, 7);
  // Offset 0 never arrives; 33 chunks of 256 KiB ahead of it exceed 8 MiB.
  for (uint32_t i = 0; i < 33; ++i) {
    C(pk::Read(10 + i, "h", (i + 1) * uint64_t{256 * 1024}, 256 * 1024));
    S(pk::Data(10 + i, chunk));
  }
  C(pk::Close(99, "h"));
  S(pk::Status(99, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_FALSE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].size, 33u * 256 * 1024);
  EXPECT_NE(transfers_[0].incomplete_reason.find("reorder buffer"), std::string::npos);
}

TEST_F(SftpAuditorTest, HugePacketRefusedAsSoonAsItsLengthIsKnown) {
  Handshake();
  C(pk::Open(1, "a", kFxfRead));
  S(pk::Handle(1, "h"));
  WireWriter w;
  w.U32(sftp::kMaxPacketBody + 1);
  auto f = auditor_->FeedServerToClient(w.data());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(std::string(f.status.message()).find("out of range"), std::string::npos) << f.status;
  // Sticky, and the other direction stops too.
  EXPECT_FALSE(auditor_->FeedClientToServer(pk::Read(2, "h", 0, 1)).ok());
  auditor_->Finish();
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_FALSE(transfers_[0].complete);
  EXPECT_NE(transfers_[0].incomplete_reason.find("auditing stopped"), std::string::npos);
}

TEST_F(SftpAuditorTest, MaxSizePacketAccepted) {
  const std::string content = Pattern(256 * 1024, 8);
  Handshake();
  C(pk::Open(1, "a", kFxfRead));
  S(pk::Handle(1, "h"));
  C(pk::Read(2, "h", 0, 256 * 1024));
  S(pk::Data(2, content));
  C(pk::Close(3, "h"));
  S(pk::Status(3, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_EQ(transfers_[0].sha256_hex, HexSha(content));
}

TEST_F(SftpAuditorTest, ErrorMidChunkStillReturnsTheAuditedPrefix) {
  Handshake();
  const std::string remove = pk::PathOp(sftp::kRemove, 1, "/tmp/x");
  const std::string chunk = remove + std::string(4, '\0');  // views point into it
  auto f = auditor_->FeedClientToServer(chunk);
  EXPECT_FALSE(f.ok());
  ASSERT_EQ(f.to_server.size(), 1u);
  EXPECT_EQ(f.to_server[0], remove);
  ASSERT_EQ(ops_.size(), 1u) << "the event matches what is delivered";
}

TEST_F(SftpAuditorTest, ZeroLengthPacketRefused) {
  Handshake();
  auto f = auditor_->FeedClientToServer(std::string(4, '\0'));
  EXPECT_FALSE(f.ok());
}

TEST_F(SftpAuditorTest, ByteByByteFeedingGivesTheSameResult) {
  const std::string content = Pattern(5000, 9);
  const std::vector<std::pair<bool, std::string>> script = {
      {true, pk::Init()},
      {false, pk::Version()},
      {true, pk::Open(1, "x/y", kFxfRead)},
      {false, pk::Handle(1, "hh")},
      {true, pk::Read(2, "hh", 0, 3000) + pk::Read(3, "hh", 3000, 3000)},
      {false, pk::Data(2, content.substr(0, 3000)) + pk::Data(3, content.substr(3000))},
      {true, pk::Close(4, "hh")},
      {false, pk::Status(4, 0)},
  };
  std::string forwarded[2];
  for (const auto& [client, bytes] : script) {
    for (char c : bytes) {
      std::string one(1, c);
      auto f = client ? auditor_->FeedClientToServer(one) : auditor_->FeedServerToClient(one);
      ASSERT_TRUE(f.ok()) << f.status;
      forwarded[client ? 0 : 1] += Joined(client ? f.to_server : f.to_client);
    }
  }
  std::string want[2];
  for (const auto& [client, bytes] : script) want[client ? 0 : 1] += bytes;
  EXPECT_EQ(forwarded[0], want[0]);
  EXPECT_EQ(forwarded[1], want[1]);
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_TRUE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].sha256_hex, HexSha(content));
}

TEST_F(SftpAuditorTest, PartialPacketIsHeldBackUntilComplete) {
  Handshake();
  const std::string open = pk::Open(1, "p", kFxfRead);
  auto f1 = auditor_->FeedClientToServer(open.substr(0, 7));
  ASSERT_TRUE(f1.ok());
  EXPECT_TRUE(f1.to_server.empty());
  auto f2 = auditor_->FeedClientToServer(open.substr(7) + pk::Read(9, "zz", 0, 1).substr(0, 3));
  ASSERT_TRUE(f2.ok());
  ASSERT_EQ(f2.to_server.size(), 1u);
  EXPECT_EQ(f2.to_server[0], open);
}

TEST_F(SftpAuditorTest, UnknownPacketTypesAreForwardedAndIgnored) {
  Handshake();
  C(pk::Wrap(WireWriter().U8(99).U32(1).String("whatever")));
  S(pk::Wrap(WireWriter().U8(150).U32(1)));
  C(pk::PathOp(sftp::kStat, 2, "/etc"));  // known but not audited
  S(pk::Wrap(WireWriter().U8(sftp::kAttrs).U32(2).U32(0)));
  EXPECT_TRUE(transfers_.empty());
  EXPECT_TRUE(ops_.empty());
}

TEST_F(SftpAuditorTest, MalformedAuditedRequestsAreErrors) {
  struct Case {
    std::string name, packet;
  };
  const Case cases[] = {
      {"path length beyond packet",
       pk::Wrap(WireWriter().U8(sftp::kOpen).U32(1).U32(1000).Raw("short"))},
      {"trailing bytes", pk::Wrap(WireWriter().U8(sftp::kRemove).U32(1).String("a").U8(0))},
      {"NUL in path", pk::PathOp(sftp::kRemove, 1, std::string("a\0b", 3))},
      {"missing pflags", pk::Wrap(WireWriter().U8(sftp::kOpen).U32(1).String("a"))},
      {"handle too long", pk::Read(1, std::string(300, 'h'), 0, 1)},
      {"no id", pk::Wrap(WireWriter().U8(sftp::kRemove))},
  };
  for (const auto& c : cases) {
    Reset({});
    Handshake();
    auto f = auditor_->FeedClientToServer(c.packet);
    EXPECT_FALSE(f.ok()) << c.name;
  }
}

TEST_F(SftpAuditorTest, FileOperationsAreEmitted) {
  Handshake();
  C(pk::PathOp(sftp::kRemove, 1, "/tmp/old.log"));
  C(pk::TwoPathOp(sftp::kRename, 2, "/tmp/a", "/tmp/b"));
  C(pk::AttrsOp(sftp::kMkdir, 3, "/tmp/d"));
  C(pk::PathOp(sftp::kRmdir, 4, "/tmp/e"));
  C(pk::AttrsOp(sftp::kSetstat, 5, "/tmp/f"));
  C(pk::TwoPathOp(sftp::kSymlink, 6, "target", "/tmp/link"));
  C(pk::Extended(7, "posix-rename@openssh.com", "/tmp/c", "/tmp/d"));
  C(pk::Extended(8, "hardlink@openssh.com", "/tmp/x", "/tmp/y"));
  ASSERT_EQ(ops_.size(), 8u);
  const std::vector<std::vector<std::string>> want = {
      {"remove", "/tmp/old.log", ""}, {"rename", "/tmp/a", "/tmp/b"},   {"mkdir", "/tmp/d", ""},
      {"rmdir", "/tmp/e", ""},        {"setstat", "/tmp/f", ""},        {"symlink", "target", "/tmp/link"},
      {"rename", "/tmp/c", "/tmp/d"}, {"hardlink", "/tmp/x", "/tmp/y"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(ops_[i].op, want[i][0]) << i;
    EXPECT_EQ(ops_[i].path, want[i][1]) << i;
    EXPECT_EQ(ops_[i].path2, want[i][2]) << i;
  }
}

TEST_F(SftpAuditorTest, PathsInEventsAreDisplayable) {
  Handshake();
  C(pk::PathOp(sftp::kRemove, 1, "caf\xc3\xa9\n\xff\\"));
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].path, "caf\xc3\xa9\\x0a\\xff\\\\");
}

// Parses a STATUS packet built by the auditor.
void ExpectStatus(std::string_view packet, uint32_t id, uint32_t code) {
  BoundedReader r(packet);
  auto body = r.String(1 << 20);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(r.Finish().ok()) << "one packet expected";
  BoundedReader b(*body);
  EXPECT_EQ(*b.U8(), sftp::kStatus);
  EXPECT_EQ(*b.U32(), id);
  EXPECT_EQ(*b.U32(), code);
  ASSERT_TRUE(b.Text().ok());
  ASSERT_TRUE(b.Text().ok());
  EXPECT_TRUE(b.Finish().ok());
}

TEST_F(SftpAuditorTest, PolicyDeniesUploadAndRelayGetsStatusReply) {
  std::vector<std::string> asked;
  auto policy = SftpTransferPolicy(/*allow_download=*/true, /*allow_upload=*/false);
  Reset([&](const SftpRequest& r) {
    asked.push_back(fmt::format("{}:{}", SftpRequestKindName(r.kind), r.path));
    return policy(r);
  });
  Handshake();
  auto f = auditor_->FeedClientToServer(pk::Open(41, "/etc/passwd", kFxfWrite | kFxfTrunc));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f.to_server.empty());
  ExpectStatus(Joined(f.to_client), 41, sftp::kFxPermissionDenied);
  // A client guessing the handle the target would have returned gets nowhere.
  auto w = auditor_->FeedClientToServer(pk::Write(42, std::string("\0\0\0\0", 4), 0, "evil"));
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w.to_server.empty());
  ExpectStatus(Joined(w.to_client), 42, sftp::kFxFailure);
  // Downloads and reads pass; modifications do not.
  C(pk::Open(43, "/var/log/syslog", kFxfRead));
  auto rm = auditor_->FeedClientToServer(pk::PathOp(sftp::kRemove, 44, "/var/log/syslog"));
  ASSERT_TRUE(rm.ok());
  EXPECT_TRUE(rm.to_server.empty());
  ExpectStatus(Joined(rm.to_client), 44, sftp::kFxPermissionDenied);
  EXPECT_TRUE(ops_.empty()) << "refused operations are not reported as performed";
  EXPECT_EQ(asked, (std::vector<std::string>{"open:/etc/passwd", "open:/var/log/syslog", "remove:/var/log/syslog"}));
}

TEST_F(SftpAuditorTest, TransferPolicyClassifiesOpenFlags) {
  auto none = SftpTransferPolicy(false, false);
  auto down = SftpTransferPolicy(true, false);
  auto up = SftpTransferPolicy(false, true);
  auto both = SftpTransferPolicy(true, true);
  auto open = [](uint32_t pflags) { return SftpRequest{SftpRequestKind::kOpen, 1, "f", {}, pflags}; };
  // pflags 0 opens read-only in OpenSSH: a download.
  EXPECT_TRUE(open(0).ReadsContent());
  EXPECT_FALSE(up(open(0)));
  EXPECT_TRUE(down(open(0)));
  // CREAT|TRUNC without WRITE still truncates: an upload.
  EXPECT_TRUE(open(kFxfCreat | kFxfTrunc).WritesContent());
  EXPECT_FALSE(down(open(kFxfCreat | kFxfTrunc)));
  // READ|WRITE needs both.
  EXPECT_FALSE(down(open(kFxfRead | kFxfWrite)));
  EXPECT_FALSE(up(open(kFxfRead | kFxfWrite)));
  EXPECT_TRUE(both(open(kFxfRead | kFxfWrite)));
  EXPECT_FALSE(none(open(kFxfRead)));
  SftpRequest ext{SftpRequestKind::kReadOnlyExtension, 1, "limits@openssh.com", {}, 0};
  EXPECT_TRUE(none(ext));
  ext.kind = SftpRequestKind::kUnknownExtension;
  EXPECT_FALSE(both(ext));
  SftpRequest mkdir{SftpRequestKind::kMkdir, 1, "d", {}, 0};
  EXPECT_TRUE(up(mkdir));
  EXPECT_FALSE(down(mkdir));
}

TEST_F(SftpAuditorTest, ReadOnUnknownHandleIsRefusedNotForwarded) {
  Handshake();
  // OPEN and a READ on the guessed handle pipelined before the HANDLE answer.
  auto f = auditor_->FeedClientToServer(pk::Open(1, "/secret", kFxfRead) + pk::Read(2, "h", 0, 100));
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f.to_server.size(), 1u);
  ExpectStatus(Joined(f.to_client), 2, sftp::kFxFailure);
  S(pk::Handle(1, "h"));
  // DATA answering a READ that was never forwarded cannot be attributed: error.
  EXPECT_FALSE(auditor_->FeedServerToClient(pk::Data(2, "leak")).ok());
}

TEST_F(SftpAuditorTest, DuplicateInFlightIdIsRefused) {
  Handshake();
  C(pk::Open(5, "a", kFxfRead));
  auto f = auditor_->FeedClientToServer(pk::Open(5, "b", kFxfRead));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f.to_server.empty());
  ExpectStatus(Joined(f.to_client), 5, sftp::kFxFailure);
}

TEST_F(SftpAuditorTest, MustStartWithInitAndVersion3) {
  EXPECT_FALSE(auditor_->FeedClientToServer(pk::Open(1, "a", 1)).ok());
  Reset({});
  EXPECT_FALSE(auditor_->FeedClientToServer(pk::Init(2)).ok());
  Reset({});
  C(pk::Init(6));  // e.g. WinSCP; OpenSSH answers 3
  S(pk::Version(3));
  Reset({});
  C(pk::Init(3));
  EXPECT_FALSE(auditor_->FeedServerToClient(pk::Status(1, 0)).ok());
  Reset({});
  C(pk::Init(6));
  EXPECT_FALSE(auditor_->FeedServerToClient(pk::Version(5)).ok());
}

TEST_F(SftpAuditorTest, FinishFlushesOpenFilesAsIncomplete) {
  Handshake();
  C(pk::Open(1, "a", kFxfRead));
  S(pk::Handle(1, "h"));
  C(pk::Read(2, "h", 0, 3));
  S(pk::Data(2, "abc"));
  C(pk::Open(3, "b", kFxfWrite | kFxfCreat));
  S(pk::Handle(3, "g"));
  auditor_->Finish();
  ASSERT_EQ(transfers_.size(), 2u);
  EXPECT_EQ(transfers_[0].path, "a");
  EXPECT_EQ(transfers_[0].size, 3u);
  EXPECT_FALSE(transfers_[0].complete);
  EXPECT_EQ(transfers_[0].incomplete_reason, "session ended before the file was closed");
  EXPECT_EQ(transfers_[1].path, "b");
  EXPECT_EQ(transfers_[1].direction, FileDirection::kUpload);
  EXPECT_EQ(transfers_[1].size, 0u);
  EXPECT_FALSE(auditor_->FeedClientToServer(pk::Init()).ok());
}

TEST_F(SftpAuditorTest, CopyDataMarksDestinationIncomplete) {
  Handshake();
  C(pk::Open(1, "src", kFxfRead));
  S(pk::Handle(1, "r"));
  C(pk::Open(2, "dst", kFxfWrite | kFxfCreat));
  S(pk::Handle(2, "w"));
  C(pk::Wrap(WireWriter().U8(sftp::kExtended).U32(3).String("copy-data").String("r").U64(0).U64(0).String("w").U64(0)));
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].op, "copy-data");
  EXPECT_EQ(ops_[0].path, "src");
  EXPECT_EQ(ops_[0].path2, "dst");
  C(pk::Close(4, "w"));
  S(pk::Status(3, 0) + pk::Status(4, 0));
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_EQ(transfers_[0].path, "dst");
  EXPECT_FALSE(transfers_[0].complete);
}

TEST_F(SftpAuditorTest, HandleReusedAfterCloseStartsANewFile) {
  Handshake();
  C(pk::Open(1, "one", kFxfRead));
  S(pk::Handle(1, "h"));
  C(pk::Read(2, "h", 0, 1));
  C(pk::Close(3, "h"));
  C(pk::Open(4, "two", kFxfRead));
  // In-order answers: the DATA belongs to "one", the HANDLE "h" to "two".
  S(pk::Data(2, "1") + pk::Status(3, 0) + pk::Handle(4, "h"));
  C(pk::Read(5, "h", 0, 1));
  S(pk::Data(5, "2"));
  C(pk::Close(6, "h"));
  S(pk::Status(6, 0));
  ASSERT_EQ(transfers_.size(), 2u);
  EXPECT_EQ(transfers_[0].path, "one");
  EXPECT_EQ(transfers_[0].sha256_hex, HexSha("1"));
  EXPECT_EQ(transfers_[1].path, "two");
  EXPECT_EQ(transfers_[1].sha256_hex, HexSha("2"));
}

TEST_F(SftpAuditorTest, WriteAfterCloseIsRefusedSoItCannotLandInTheNextFile) {
  // sftp-server may give the next OPEN the handle just closed; a WRITE
  // pipelined behind CLOSE + OPEN would reach the new file.
  Handshake();
  C(pk::Open(1, "one", kFxfWrite | kFxfCreat));
  S(pk::Handle(1, "h"));
  C(pk::Close(2, "h") + pk::Open(3, "two", kFxfWrite | kFxfCreat));
  auto f = auditor_->FeedClientToServer(pk::Write(4, "h", 0, "sneaky"));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f.to_server.empty());
  ExpectStatus(Joined(f.to_client), 4, sftp::kFxFailure);
  S(pk::Status(2, 0) + pk::Handle(3, "h"));
  C(pk::Write(5, "h", 0, "fine"));
  C(pk::Close(6, "h"));
  S(pk::Status(5, 0) + pk::Status(6, 0));
  ASSERT_EQ(transfers_.size(), 2u);
  EXPECT_EQ(transfers_[0].path, "one");
  EXPECT_EQ(transfers_[0].size, 0u);
  EXPECT_EQ(transfers_[1].path, "two");
  EXPECT_EQ(transfers_[1].sha256_hex, HexSha("fine"));
}

TEST_F(SftpAuditorTest, LargeDownloadThroughput) {
  // 64 MiB in 32 KiB reads, fed in 16000-byte chunks that cut packets anywhere.
  constexpr size_t kTotal = 64u << 20, kRead = 32768;
  const std::string block = Pattern(kRead, 10);
  Handshake();
  C(pk::Open(1, "big", kFxfRead));
  S(pk::Handle(1, "h"));
  Sha256Stream want;
  const auto start = std::chrono::steady_clock::now();
  uint32_t id = 10;
  std::string server_stream;
  for (size_t off = 0; off < kTotal; off += kRead, ++id) {
    auto f = auditor_->FeedClientToServer(pk::Read(id, "h", off, kRead));
    ASSERT_TRUE(f.ok());
    server_stream += pk::Data(id, block);
    want.Update(block);
    if (server_stream.size() > (1u << 20) || off + kRead == kTotal) {
      for (size_t i = 0; i < server_stream.size(); i += 16000) {
        auto g = auditor_->FeedServerToClient(std::string_view(server_stream).substr(i, 16000));
        ASSERT_TRUE(g.ok()) << g.status;
      }
      server_stream.clear();
    }
  }
  C(pk::Close(id, "h"));
  S(pk::Status(id, 0));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("64 MiB audited in %.3f s (%.0f MiB/s, includes building the packets)\n", secs, 64 / secs);
  ASSERT_EQ(transfers_.size(), 1u);
  EXPECT_EQ(transfers_[0].size, kTotal);
  EXPECT_EQ(transfers_[0].sha256_hex, want.FinishHex());
}

}  // namespace
}  // namespace portcullis::ssh
