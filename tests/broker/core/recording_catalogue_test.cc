// The broker's side of recordings: the recording key behind the Authority
// (created at init and on open, signs seal payloads only), the catalogue the
// recorders report to, crash recovery, and retention with legal hold.
#include "broker/core/recording_catalogue.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "auth/ca/ed25519_key.h"
#include "broker/daemon/maintenance.h"
#include "recorder/seal_format.h"
#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {
namespace {

constexpr int64_t kDaySeconds = 86400;

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

session::RecordingInfo Info(core::Broker& b, const std::string& user) {
  session::RecordingInfo info;
  info.session_id = b.sessions().NewId();
  info.user = user;
  info.login = "maint";
  info.target = "rtu-01";
  info.protocol = "ssh";
  info.source = "127.0.0.1:50000";
  info.started = b.clock()->Now();
  return info;
}

// Catalogues a recording as the recorders do, with its files (a .cast and
// all three sidecars) on disk. It starts (and, if `complete`, ends) at the
// clock's now.
std::string AddRecording(BrokerEnv& env, const std::string& user, bool complete = true) {
  core::Broker& b = env.broker();
  session::RecordingInfo info = Info(b, user);
  const std::string id = info.RecordingId();
  const std::string rel = "2026/11/23/" + id + ".cast";
  const std::string path = b.config().RecordingsDir() + "/" + rel;
  EXPECT_TRUE(MakeDirs(b.config().RecordingsDir() + "/2026/11/23", 0700).ok());
  EXPECT_TRUE(b.recording_catalogue().Opened(info, path).ok());
  const core::RecordingFiles files = core::FilesOf(path);
  for (const std::string& f : files.All()) EXPECT_TRUE(WriteWholeFile(f, "x", 0600).ok()) << f;
  if (complete) {
    session::RecordingEnd end;
    end.recording_id = id;
    end.state = "complete";
    end.end_reason = "client-closed";
    end.ended = b.clock()->Now();
    end.size = 1;
    end.sha256_hex = std::string(64, 'b');
    b.recording_catalogue().Closed(end);
  }
  return id;
}

std::vector<audit::AuditRow> Audit(core::Broker& b, const std::string& type) {
  audit::AuditFilter f;
  f.type_prefix = type;
  auto rows = b.audit().List(f);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<audit::AuditRow>{};
}

TEST(RecordingKeyTest, CreatedAtInitAndSignsOnlySeals) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  core::Broker& b = env.broker();
  EXPECT_EQ(Mode(b.config().RecordingKeyPath()), 0600);
  auto pem = ReadWholeFile(b.config().RecordingKeyPath());
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);

  session::RecordingSigner& signer = b.authority();
  const std::string pub = signer.RecordingPublicKey();
  ASSERT_EQ(pub.size(), 32u);

  const std::string checkpoint =
      std::string(recorder::kCheckpointMagic) + " s1.0 0 120 0.000000 " + std::string(64, 'a') +
      " 2026-11-23T09:00:00.000000Z";
  auto sig = signer.SignRecordingSeal(checkpoint);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(ca::VerifyEd25519(pub, checkpoint, *sig).ok());

  const std::string manifest = std::string(recorder::kManifestPrefix) + ",\n  \"x\": 1\n}\n";
  auto msig = signer.SignRecordingSeal(manifest);
  ASSERT_TRUE(msig.ok()) << msig.status();
  EXPECT_TRUE(ca::VerifyEd25519(pub, manifest, *msig).ok());

  for (const std::string& bad :
       {std::string(""), std::string("hello"), std::string(recorder::kCheckpointMagic),
        std::string(recorder::kCheckpointMagic) + "x 1 2",      // no space after the magic
        " " + checkpoint,                                       // not at the start
        checkpoint + "\nssh-ed25519-cert-v01@openssh.com AAAA",  // a second line smuggled in
        std::string(recorder::kCheckpointMagic) + " " + std::string(600, 'a'),  // too long
        std::string("{\n  \"format\": \"something-else\"}"),
        std::string("\0\0\0\x1cssh-ed25519-cert-v01@openssh.com", 32)}) {
    auto refused = signer.SignRecordingSeal(bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RecordingKeyTest, CreatedOnOpenForAnOlderDataDirectory) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  const config::BrokerConfig cfg = env.broker().config();
  const std::string before = env.broker().authority().RecordingPublicKey();
  ASSERT_EQ(::unlink(cfg.RecordingKeyPath().c_str()), 0);
  auto b = core::Broker::Open(cfg, &env.clock());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Mode(cfg.RecordingKeyPath()), 0600);
  const std::string after = (*b)->authority().RecordingPublicKey();
  EXPECT_EQ(after.size(), 32u);
  EXPECT_NE(after, before);
  // And it is kept from then on.
  auto again = core::Broker::Open(cfg, &env.clock());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->authority().RecordingPublicKey(), after);
}

TEST(RecordingCatalogueTest, OpenedAndClosedFillTheRow) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  const std::string id = AddRecording(env, "bob");
  auto r = env.broker().recording_store().Get(id);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->user, "bob");
  EXPECT_EQ(r->target, "rtu-01");
  EXPECT_EQ(r->path, "2026/11/23/" + id + ".cast");
  EXPECT_EQ(r->state, "complete");
  EXPECT_EQ(r->started_us, int64_t{1795424400} * 1'000'000);
  EXPECT_EQ(r->ended_us, r->started_us);
  EXPECT_EQ(r->sha256_hex, std::string(64, 'b'));
}

TEST(RecordingCatalogueTest, RefusesAPathOutsideTheRecordingsDirectory) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  core::Broker& b = env.broker();
  session::RecordingInfo info = Info(b, "bob");
  auto st = b.recording_catalogue().Opened(info, "/tmp/elsewhere/" + info.RecordingId() + ".cast");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(b.recording_store().Get(info.RecordingId()).status().code(),
            absl::StatusCode::kNotFound);
  // A second Opened for the same id is refused too (nothing overwritten).
  const std::string path = b.config().RecordingsDir() + "/2026/11/23/" + info.RecordingId() + ".cast";
  ASSERT_TRUE(b.recording_catalogue().Opened(info, path).ok());
  EXPECT_EQ(b.recording_catalogue().Opened(info, path).code(), absl::StatusCode::kAlreadyExists);
}

TEST(RecordingCatalogueTest, RowsLeftRecordingAreTruncatedAtOpen) {
  BrokerEnv env;
  ASSERT_TRUE(env.ok()) << env.init_status();
  const std::string id = AddRecording(env, "bob", /*complete=*/false);
  const std::string path =
      env.broker().config().RecordingsDir() + "/" + env.broker().recording_store().Get(id)->path;
  ASSERT_TRUE(WriteWholeFile(path, std::string(777, 'x'), 0600).ok());
  EXPECT_EQ(env.broker().recording_store().Get(id)->state, "recording");

  // The broker "dies" and starts again.
  auto b = core::Broker::Open(env.broker().config(), &env.clock());
  ASSERT_TRUE(b.ok()) << b.status();
  auto r = (*b)->recording_store().Get(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, "truncated");
  EXPECT_EQ(r->size, 777u);
  EXPECT_NE(r->ended_us, 0);
  EXPECT_EQ(r->end_reason, "broker-stopped");
  auto events = Audit(**b, "recording.truncated");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.subject, id);
  EXPECT_EQ(events[0].event.actor, "system");
}

TEST(RecordingRetentionTest, DeletesExpiredFilesKeepsHeldAndAudits) {
  BrokerEnv env;  // default retention 365d
  ASSERT_TRUE(env.ok()) << env.init_status();
  core::Broker& b = env.broker();
  const std::string old_id = AddRecording(env, "bob");
  const std::string held_id = AddRecording(env, "bob");
  ASSERT_TRUE(b.recording_catalogue().SetLegalHold(held_id, true).ok());
  env.clock().Advance(std::chrono::seconds(200 * kDaySeconds));
  const std::string young_id = AddRecording(env, "carol");

  // Day 200: nothing is a year old.
  core::PruneReport early = b.recording_catalogue().Prune("system", "");
  EXPECT_TRUE(early.deleted.empty());

  env.clock().Advance(std::chrono::seconds(166 * kDaySeconds));  // day 366
  core::PruneReport rep = b.recording_catalogue().Prune("alice", "ipv4:127.0.0.1:1");
  EXPECT_EQ(rep.deleted, std::vector<std::string>{old_id});
  EXPECT_TRUE(rep.failed.empty());

  const std::string dir = b.config().RecordingsDir();
  auto old_row = b.recording_store().Get(old_id);
  ASSERT_TRUE(old_row.ok());
  EXPECT_TRUE(old_row->deleted());
  for (const std::string& f : core::FilesOf(dir + "/" + old_row->path).All()) {
    EXPECT_FALSE(PathExists(f)) << f;
  }
  auto held_row = b.recording_store().Get(held_id);
  EXPECT_FALSE(held_row->deleted());
  for (const std::string& f : core::FilesOf(dir + "/" + held_row->path).All()) {
    EXPECT_TRUE(PathExists(f)) << f;
  }
  EXPECT_FALSE(b.recording_store().Get(young_id)->deleted());

  auto events = Audit(b, "recording.deleted");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.subject, old_id);
  EXPECT_EQ(events[0].event.actor, "alice");
  EXPECT_EQ(events[0].event.outcome, "success");
  const auto& paths = events[0].event.details["paths"];
  ASSERT_EQ(paths.size(), 4u) << events[0].event.details.dump();
  EXPECT_EQ(paths[0], old_row->path);
  EXPECT_EQ(paths[1], "2026/11/23/" + old_id + ".manifest.json");
  EXPECT_EQ(events[0].event.details["retention_seconds"], 365 * kDaySeconds);

  // Once released, the held one goes at the next run (the periodic one).
  ASSERT_TRUE(b.recording_catalogue().SetLegalHold(held_id, false).ok());
  daemon::Maintenance::RunOnce(b);
  EXPECT_TRUE(b.recording_store().Get(held_id)->deleted());
  EXPECT_EQ(Audit(b, "recording.deleted").back().event.actor, "system");
  EXPECT_TRUE(PathExists(dir + "/" + b.recording_store().Get(young_id)->path));
  // A deleted recording cannot be put on hold any more.
  EXPECT_EQ(b.recording_catalogue().SetLegalHold(old_id, true).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RecordingRetentionTest, ZeroKeepsEverything) {
  BrokerEnv env("recordings:\n  retention: 0\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  const std::string id = AddRecording(env, "bob");
  env.clock().Advance(std::chrono::seconds(3000 * kDaySeconds));
  core::PruneReport rep = env.broker().recording_catalogue().Prune("system", "");
  EXPECT_TRUE(rep.deleted.empty());
  EXPECT_FALSE(env.broker().recording_store().Get(id)->deleted());
}

TEST(RecordingRetentionTest, AnUndeletableFileIsRetriedNotForgotten) {
  BrokerEnv env("recordings:\n  retention: 1d\n");
  ASSERT_TRUE(env.ok()) << env.init_status();
  core::Broker& b = env.broker();
  const std::string id = AddRecording(env, "bob");
  const std::string path = b.config().RecordingsDir() + "/" + b.recording_store().Get(id)->path;
  // A directory where the seal file should be: unlink fails with EISDIR.
  const std::string seal = core::FilesOf(path).seal;
  ASSERT_EQ(::unlink(seal.c_str()), 0);
  ASSERT_TRUE(MakeDirs(seal + "/x", 0700).ok());
  env.clock().Advance(std::chrono::seconds(2 * kDaySeconds));
  core::PruneReport rep = b.recording_catalogue().Prune("system", "");
  EXPECT_TRUE(rep.deleted.empty());
  EXPECT_EQ(rep.failed, std::vector<std::string>{id});
  EXPECT_FALSE(b.recording_store().Get(id)->deleted());
  auto failed = Audit(b, "recording.delete_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].event.outcome, "failure");
}

}  // namespace
}  // namespace portcullis::testing
