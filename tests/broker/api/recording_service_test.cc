// RecordingService against the real services: who may list, replay,
// export, verify, search, hold and prune which recordings, and that each
// viewing is an audit event naming who and which recording.
#include <cstdio>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "broker/common/files.h"
#include "recorder/seal_format.h"
#include "tests/broker/api/api_harness.h"

namespace portcullis::testing {
namespace {

constexpr char kHeader[] =
    R"({"version": 2, "width": 80, "height": 24, "timestamp": 1795424400, "env": {"TERM": "xterm"}})"
    "\n";
constexpr char kEvents[] =
    "[0.100000, \"o\", \"hello\\r\\n\"]\n"
    "[1.500000, \"o\", \"$ systemctl stop pump\\r\\n\"]\n"
    "[9.000000, \"o\", \"done\\r\\n\"]\n";

class RecordingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.ok()) << h_.env().init_status();
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("bob"));
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("carol", {"auditor"}));
    ASSERT_NO_FATAL_FAILURE(h_.AddUser("dave"));
    admin_ = h_.Token("alice");
    bob_ = h_.Token("bob");
    carol_ = h_.Token("carol");
    dave_ = h_.Token("dave");
    stub_ = v1::RecordingService::NewStub(h_.channel());
    bob_rec_ = AddRecording("bob", "rtu-01");
    dave_rec_ = AddRecording("dave", "plc-09");
  }

  // A catalogued, completed recording with a .cast file (and sidecar
  // stand-ins) on disk, as the recorders leave one.
  std::string AddRecording(const std::string& user, const std::string& target) {
    core::Broker& b = h_.broker();
    session::RecordingInfo info;
    info.session_id = b.sessions().NewId();
    info.user = user;
    info.login = "maint";
    info.target = target;
    info.protocol = "ssh";
    info.started = b.clock()->Now();
    const std::string path =
        b.config().RecordingsDir() + "/2026/11/23/" + info.RecordingId() + ".cast";
    EXPECT_TRUE(MakeDirs(b.config().RecordingsDir() + "/2026/11/23", 0700).ok());
    EXPECT_TRUE(b.recording_catalogue().Opened(info, path).ok());
    EXPECT_TRUE(WriteWholeFile(path, std::string(kHeader) + kEvents, 0600).ok());
    const core::RecordingFiles files = core::FilesOf(path);
    EXPECT_TRUE(WriteWholeFile(files.manifest, "manifest-bytes", 0600).ok());
    EXPECT_TRUE(WriteWholeFile(files.signature, std::string(64, 's'), 0600).ok());
    session::RecordingEnd end;
    end.recording_id = info.RecordingId();
    end.state = "complete";
    end.end_reason = "client-closed";
    end.ended = b.clock()->Now() + std::chrono::seconds(9);
    end.size = std::string(kHeader).size() + std::string(kEvents).size();
    b.recording_catalogue().Closed(end);
    return info.RecordingId();
  }

  std::vector<v1::Recording> List(const std::string& token, const std::string& user = "",
                                  grpc::StatusCode want = grpc::OK) {
    v1::ListRecordingsRequest req;
    req.mutable_filter()->set_user(user);
    v1::ListRecordingsResponse resp;
    grpc::Status st = stub_->List(ApiHarness::Ctx(token).get(), req, &resp);
    EXPECT_EQ(st.error_code(), want) << st.error_message();
    return {resp.recordings().begin(), resp.recordings().end()};
  }
  static std::vector<std::string> Ids(const std::vector<v1::Recording>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(r.id());
    return out;
  }

  struct ReadResult {
    grpc::Status status;
    std::vector<v1::RecordingChunk> chunks;
    std::string data;  // all data, concatenated
  };
  ReadResult Read(const std::string& token, const std::string& id, v1::ReadPurpose purpose,
                  int64_t from_micros = 0) {
    v1::ReadRecordingRequest req;
    req.set_id(id);
    req.set_purpose(purpose);
    req.set_from_micros(from_micros);
    auto ctx = ApiHarness::Ctx(token);
    auto reader = stub_->Read(ctx.get(), req);
    ReadResult out;
    v1::RecordingChunk chunk;
    while (reader->Read(&chunk)) {
      out.data += chunk.data();
      out.chunks.push_back(chunk);
    }
    out.status = reader->Finish();
    return out;
  }

  grpc::Status Hold(const std::string& token, const std::string& id, bool hold) {
    v1::SetLegalHoldRequest req;
    req.set_id(id);
    req.set_hold(hold);
    v1::SetLegalHoldResponse resp;
    return stub_->SetLegalHold(ApiHarness::Ctx(token).get(), req, &resp);
  }

  ApiHarness h_;
  std::string admin_, bob_, carol_, dave_;
  std::unique_ptr<v1::RecordingService::Stub> stub_;
  std::string bob_rec_, dave_rec_;
};

TEST_F(RecordingServiceTest, ListShowsUsersTheirOwnAndReviewersAll) {
  auto mine = List(bob_);
  EXPECT_EQ(Ids(mine), std::vector<std::string>{bob_rec_});
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].user(), "bob");
  EXPECT_EQ(mine[0].target(), "rtu-01");
  EXPECT_EQ(mine[0].state(), "complete");
  EXPECT_EQ(mine[0].duration_micros(), 9'000'000);
  EXPECT_FALSE(mine[0].legal_hold());
  List(bob_, "dave", grpc::PERMISSION_DENIED);
  EXPECT_EQ(List(carol_).size(), 2u);
  EXPECT_EQ(List(admin_).size(), 2u);
  EXPECT_EQ(Ids(List(carol_, "dave")), std::vector<std::string>{dave_rec_});
  List("", "", grpc::UNAUTHENTICATED);
}

TEST_F(RecordingServiceTest, PlayIsOwnOrReviewerAndAudited) {
  ReadResult r = Read(bob_, bob_rec_, v1::READ_PURPOSE_PLAY);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_FALSE(r.chunks.empty());
  EXPECT_EQ(r.chunks[0].header_line(), kHeader);
  EXPECT_EQ(r.chunks[0].recording().id(), bob_rec_);
  EXPECT_EQ(r.chunks[0].offset(), std::string(kHeader).size());
  EXPECT_EQ(r.data, kEvents);
  EXPECT_TRUE(r.chunks[0].manifest().empty());  // only exports carry the seal

  // Someone else's recording does not exist for bob.
  EXPECT_EQ(Read(bob_, dave_rec_, v1::READ_PURPOSE_PLAY).status.error_code(), grpc::NOT_FOUND);
  EXPECT_TRUE(Read(carol_, dave_rec_, v1::READ_PURPOSE_PLAY).status.ok());

  auto events = h_.Audit("recording.play");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.actor, "bob");
  EXPECT_EQ(events[0].event.subject, bob_rec_);
  EXPECT_EQ(events[0].event.details["user"], "bob");
  EXPECT_EQ(events[1].event.actor, "carol");
  EXPECT_EQ(events[1].event.subject, dave_rec_);
}

// A long replay stops once the viewer's login is revoked: the stream checks
// the token again as it goes.
TEST_F(RecordingServiceTest, ARevokedLoginStopsALongReplay) {
  core::Broker& b = h_.broker();
  auto rows = b.recording_store().Get(bob_rec_);
  ASSERT_TRUE(rows.ok());
  const std::string path = b.recording_catalogue().AbsolutePath(*rows);
  std::string events;
  for (int i = 0; events.size() < (48u << 20); ++i) {
    events += "[" + std::to_string(i) + ".0, \"o\", \"" + std::string(4000, 'x') + "\"]\n";
  }
  ASSERT_TRUE(WriteWholeFile(path, std::string(kHeader) + events, 0600).ok());

  v1::ReadRecordingRequest req;
  req.set_id(bob_rec_);
  req.set_purpose(v1::READ_PURPOSE_PLAY);
  auto ctx = ApiHarness::Ctx(bob_);
  auto reader = stub_->Read(ctx.get(), req);
  v1::RecordingChunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  ASSERT_TRUE(b.tokens().RevokeUser("bob").ok());
  size_t received = chunk.data().size();
  while (reader->Read(&chunk)) received += chunk.data().size();
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::UNAUTHENTICATED) << st.error_message();
  EXPECT_LT(received, events.size());
}

TEST_F(RecordingServiceTest, PlayFromWithoutCheckpointsStartsAfterTheHeader) {
  ReadResult r = Read(bob_, bob_rec_, v1::READ_PURPOSE_PLAY, 5'000'000);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.chunks[0].offset(), std::string(kHeader).size());
  EXPECT_EQ(r.data, kEvents);
  EXPECT_EQ(Read(bob_, bob_rec_, v1::READ_PURPOSE_PLAY, -1).status.error_code(),
            grpc::INVALID_ARGUMENT);
}

TEST_F(RecordingServiceTest, PlayFromSeeksToTheLastCheckpointBeforeIt) {
  // A seal file with checkpoints after the header and after each event.
  const std::string path = h_.broker().config().RecordingsDir() + "/" +
                           h_.broker().recording_store().Get(bob_rec_)->path;
  const std::string header = kHeader;
  const std::string events = kEvents;
  const size_t e1 = header.size() + events.find('\n') + 1;
  const size_t e2 = header.size() + events.find('\n', e1 - header.size()) + 1;
  std::string seal;
  uint64_t seq = 0;
  for (auto [offset, micros] : std::vector<std::pair<uint64_t, int64_t>>{
           {header.size(), 0}, {e1, 100'000}, {e2, 1'500'000}}) {
    recorder::Checkpoint cp;
    cp.recording_id = bob_rec_;
    cp.seq = seq++;
    cp.offset = offset;
    cp.elapsed_micros = micros;
    cp.sha256_hex = std::string(64, 'a');
    cp.utc = "2026-11-23T09:00:00.000000Z";
    cp.signature = std::string(64, 'x');
    seal += recorder::CheckpointLine(cp);
  }
  ASSERT_TRUE(WriteWholeFile(core::FilesOf(path).seal, seal, 0600).ok());
  ReadResult r = Read(bob_, bob_rec_, v1::READ_PURPOSE_PLAY, 5'000'000);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.chunks[0].offset(), e2);
  EXPECT_EQ(r.chunks[0].header_line(), kHeader);
  EXPECT_EQ(r.data, "[9.000000, \"o\", \"done\\r\\n\"]\n");
  ReadResult mid = Read(bob_, bob_rec_, v1::READ_PURPOSE_PLAY, 1'000'000);
  EXPECT_EQ(mid.chunks[0].offset(), e1);
}

TEST_F(RecordingServiceTest, ExportNeedsAReviewerAndCarriesTheSeal) {
  EXPECT_EQ(Read(bob_, bob_rec_, v1::READ_PURPOSE_EXPORT).status.error_code(),
            grpc::PERMISSION_DENIED);
  ReadResult r = Read(carol_, bob_rec_, v1::READ_PURPOSE_EXPORT);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.chunks[0].offset(), 0u);
  EXPECT_EQ(r.data, std::string(kHeader) + kEvents);
  EXPECT_EQ(r.chunks[0].file_size(), r.data.size());
  EXPECT_EQ(r.chunks[0].manifest(), "manifest-bytes");
  EXPECT_EQ(r.chunks[0].manifest_sig(), std::string(64, 's'));
  EXPECT_TRUE(r.chunks[0].seal().empty());
  EXPECT_EQ(Read(carol_, bob_rec_, v1::READ_PURPOSE_UNSPECIFIED).status.error_code(),
            grpc::INVALID_ARGUMENT);
  auto events = h_.Audit("recording.export");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.actor, "carol");
  EXPECT_EQ(events[0].event.subject, bob_rec_);
  EXPECT_TRUE(h_.Audit("recording.play").empty());
}

TEST_F(RecordingServiceTest, AMissingFileIsNotFound) {
  const std::string path = h_.broker().config().RecordingsDir() + "/" +
                           h_.broker().recording_store().Get(bob_rec_)->path;
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ReadResult r = Read(admin_, bob_rec_, v1::READ_PURPOSE_EXPORT);
  EXPECT_EQ(r.status.error_code(), grpc::NOT_FOUND) << r.status.error_message();
  EXPECT_TRUE(h_.Audit("recording.export").empty());
}

TEST_F(RecordingServiceTest, VerifyIsOwnOrReviewerAndAudited) {
  v1::VerifyRecordingRequest req;
  req.set_id(dave_rec_);
  v1::VerifyRecordingResponse resp;
  EXPECT_EQ(stub_->Verify(ApiHarness::Ctx(bob_).get(), req, &resp).error_code(), grpc::NOT_FOUND);
  req.set_id(bob_rec_);
  grpc::Status st = stub_->Verify(ApiHarness::Ctx(bob_).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  // The stand-in manifest is not a signed one.
  EXPECT_EQ(resp.verdict(), v1::VERDICT_INVALID) << resp.message();
  EXPECT_EQ(resp.recording_id(), bob_rec_);
  auto events = h_.Audit("recording.verify");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.actor, "bob");
  EXPECT_EQ(events[0].event.subject, bob_rec_);
  EXPECT_EQ(events[0].event.details["verdict"], "INVALID");
}

TEST_F(RecordingServiceTest, HoldIsAdminOnlyAndAudited) {
  EXPECT_EQ(Hold(bob_, bob_rec_, true).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(Hold(carol_, bob_rec_, true).error_code(), grpc::PERMISSION_DENIED);
  ASSERT_TRUE(Hold(admin_, bob_rec_, true).ok());
  EXPECT_TRUE(List(bob_)[0].legal_hold());
  ASSERT_TRUE(Hold(admin_, bob_rec_, false).ok());
  EXPECT_FALSE(List(bob_)[0].legal_hold());
  EXPECT_EQ(Hold(admin_, "nope.0", true).error_code(), grpc::NOT_FOUND);
  auto events = h_.Audit("recording.hold");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.actor, "alice");
  EXPECT_EQ(events[0].event.subject, bob_rec_);
  EXPECT_EQ(events[0].event.details["hold"], true);
  EXPECT_EQ(events[1].event.details["hold"], false);
}

TEST_F(RecordingServiceTest, PruneIsAdminOnlyDeletesExpiredAndKeepsHeld) {
  v1::PruneRecordingsResponse resp;
  EXPECT_EQ(stub_->Prune(ApiHarness::Ctx(carol_).get(), {}, &resp).error_code(),
            grpc::PERMISSION_DENIED);
  ASSERT_TRUE(Hold(admin_, dave_rec_, true).ok());
  h_.env().clock().Advance(std::chrono::hours(24 * 400));
  admin_ = h_.Token("alice");  // the old token expired meanwhile
  grpc::Status st = stub_->Prune(ApiHarness::Ctx(admin_).get(), {}, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(std::vector<std::string>(resp.deleted().begin(), resp.deleted().end()),
            std::vector<std::string>{bob_rec_});
  EXPECT_EQ(resp.retention_seconds(), 365 * 86400);
  auto deleted = h_.Audit("recording.deleted");
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].event.actor, "alice");
  EXPECT_EQ(deleted[0].event.subject, bob_rec_);
  EXPECT_EQ(h_.Audit("recording.prune").size(), 1u);

  // Gone from the list (unless asked for), and no longer playable.
  EXPECT_EQ(Ids(List(admin_)), std::vector<std::string>{dave_rec_});
  v1::ListRecordingsRequest all;
  all.set_include_deleted(true);
  v1::ListRecordingsResponse listed;
  ASSERT_TRUE(stub_->List(ApiHarness::Ctx(admin_).get(), all, &listed).ok());
  EXPECT_EQ(listed.recordings_size(), 2);
  EXPECT_EQ(Read(admin_, bob_rec_, v1::READ_PURPOSE_PLAY).status.error_code(),
            grpc::FAILED_PRECONDITION);
}

TEST_F(RecordingServiceTest, SearchIsForReviewersAndNamesTheRecordings) {
  v1::SearchRecordingsRequest req;
  req.set_needle("systemctl stop");
  auto search = [&](const std::string& token, std::vector<v1::RecordingSearchHit>* hits) {
    auto ctx = ApiHarness::Ctx(token);
    auto reader = stub_->Search(ctx.get(), req);
    v1::RecordingSearchHit hit;
    while (reader->Read(&hit)) hits->push_back(hit);
    return reader->Finish();
  };
  std::vector<v1::RecordingSearchHit> hits;
  EXPECT_EQ(search(bob_, &hits).error_code(), grpc::PERMISSION_DENIED);
  req.set_needle("");
  EXPECT_EQ(search(carol_, &hits).error_code(), grpc::INVALID_ARGUMENT);
  req.set_needle("systemctl stop");
  req.mutable_filter()->set_user("bob");
  grpc::Status st = search(carol_, &hits);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto events = h_.Audit("recording.search");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.actor, "carol");
  EXPECT_EQ(events[0].event.details["needle"], "systemctl stop");
  EXPECT_EQ(events[0].event.details["user"], "bob");
  EXPECT_EQ(events[0].event.details["scanned"], 1);
  // The recorder's search finds the printed text at 1.5 s.
  ASSERT_EQ(hits.size(), 1u) << events[0].event.details.dump();
  EXPECT_EQ(hits[0].recording_id(), bob_rec_);
  EXPECT_EQ(hits[0].user(), "bob");
  EXPECT_EQ(hits[0].target(), "rtu-01");
  EXPECT_EQ(hits[0].micros(), 1'500'000);
  EXPECT_NE(hits[0].context().find("systemctl stop pump"), std::string::npos);
  EXPECT_EQ(events[0].event.details["recordings"], nlohmann::json::array({bob_rec_}));
}

TEST_F(RecordingServiceTest, CaExportsTheRecordingPublicKeyAsPem) {
  auto ca = v1::CaService::NewStub(h_.channel());
  v1::ExportCaRequest req;
  req.set_kind(v1::CA_KIND_RECORDING);
  v1::ExportCaResponse resp;
  grpc::Status st = ca->ExportCa(ApiHarness::Ctx(bob_).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.data().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u) << resp.data();
}

// With the recorders: a real session recording is catalogued, sealed with
// the authority's key, and verified VALID by the broker; without its
// manifest the catalogue makes it INVALID.
TEST_F(RecordingServiceTest, ARealRecordingVerifiesAndLosesItsManifest) {
  core::Broker& b = h_.broker();
  session::RecordingInfo info;
  info.session_id = b.sessions().NewId();
  info.user = "bob";
  info.login = "maint";
  info.target = "rtu-01";
  info.protocol = "ssh";
  auto rec = b.recorders().OpenTerminal(info);
  ASSERT_TRUE(rec.ok()) << rec.status();
  auto open_row = b.recording_store().Get(info.RecordingId());
  ASSERT_TRUE(open_row.ok()) << open_row.status();
  EXPECT_EQ(open_row->state, "recording");
  (*rec)->Output("hello\r\n");
  ASSERT_TRUE((*rec)->Close("client-closed").ok());
  auto row = b.recording_store().Get(info.RecordingId());
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->state, "complete");
  EXPECT_EQ(row->sha256_hex.size(), 64u);

  v1::VerifyRecordingRequest req;
  req.set_id(info.RecordingId());
  v1::VerifyRecordingResponse resp;
  ASSERT_TRUE(stub_->Verify(ApiHarness::Ctx(bob_).get(), req, &resp).ok());
  EXPECT_EQ(resp.verdict(), v1::VERDICT_VALID) << resp.message();

  const std::string path = b.config().RecordingsDir() + "/" + row->path;
  ASSERT_EQ(::unlink(core::FilesOf(path).manifest.c_str()), 0);
  ASSERT_TRUE(stub_->Verify(ApiHarness::Ctx(bob_).get(), req, &resp).ok());
  EXPECT_EQ(resp.verdict(), v1::VERDICT_INVALID) << resp.message();
  EXPECT_NE(resp.message().find("manifest is missing"), std::string::npos) << resp.message();
}

// Another recording's files, all of them, put in this one's place: they
// verify on their own, but as the other recording.
TEST_F(RecordingServiceTest, AnotherRecordingsFilesInItsPlaceAreInvalid) {
  core::Broker& b = h_.broker();
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    session::RecordingInfo info;
    info.session_id = b.sessions().NewId();
    info.user = "bob";
    info.login = "maint";
    info.target = "rtu-01";
    info.protocol = "ssh";
    auto rec = b.recorders().OpenTerminal(info);
    ASSERT_TRUE(rec.ok()) << rec.status();
    (*rec)->Output("hello\r\n");
    ASSERT_TRUE((*rec)->Close("client-closed").ok());
    ids.push_back(info.RecordingId());
  }
  auto files = [&](const std::string& id) {
    return core::FilesOf(b.config().RecordingsDir() + "/" + b.recording_store().Get(id)->path);
  };
  const core::RecordingFiles from = files(ids[0]), to = files(ids[1]);
  for (auto [src, dst] : {std::pair{from.recording, to.recording},
                          std::pair{from.manifest, to.manifest},
                          std::pair{from.signature, to.signature}}) {
    ASSERT_EQ(::rename(src.c_str(), dst.c_str()), 0) << src;
  }
  v1::VerifyRecordingRequest req;
  req.set_id(ids[1]);
  v1::VerifyRecordingResponse resp;
  ASSERT_TRUE(stub_->Verify(ApiHarness::Ctx(bob_).get(), req, &resp).ok());
  EXPECT_EQ(resp.verdict(), v1::VERDICT_INVALID) << resp.message();
  EXPECT_NE(resp.message().find("the files are sealed as recording " + ids[0]), std::string::npos)
      << resp.message();
}

}  // namespace
}  // namespace portcullis::testing
