// Recordings under a full disk, end to end with real ssh/sshd: a small
// tmpfs this test mounts fills up, which ends the running session with a
// notice, and new sessions are refused until there is room again. (A broker
// killed mid-session is in ssh_recordings_test.cc.)

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Every file under `dir` whose name ends with `suffix`.
std::vector<std::string> FilesEndingWith(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string p = it->path().string();
    if (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(p);
  }
  return out;
}

class RecordingsFaultsTest : public SshTest {};

TEST_F(RecordingsFaultsTest, FullDiskEndsTheSessionAndRefusesNewOnesUntilThereIsRoom) {
  const std::string mnt = fmt::format("/tmp/pc-recfull-{}", ::getpid());
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0) << std::strerror(errno);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0700") != 0) {
    ::rmdir(mnt.c_str());
    GTEST_SKIP() << "cannot mount a tmpfs (not root?): " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() {
      ::umount2(path.c_str(), MNT_DETACH);
      ::rmdir(path.c_str());
    }
  } unmount{mnt};

  EnvOptions env;
  env.broker_extra_config = "recordings:\n  dir: " + mnt + "\n  min_free: 1MiB\n";
  StartAll(env);

  // 8 MiB of text into a 4 MiB filesystem: the recording fails, so the
  // session ends with a notice instead of running unrecorded.
  SshUser u1 = NewUser();
  auto r = Ssh(u1, u1.name + ":rtu-01", {"head -c 6000000 /dev/urandom | base64; sleep 5"});
  EXPECT_NE(r.exit_code, 0);
  // (The one-line notice races the connection's close under this much
  // output; the audit row is the dependable record.)
  EXPECT_LT(r.out.size(), 8000000u);
  auto end = WaitForEvent("session.end", [](const nlohmann::json& e) {
    return DetailIs(e, "reason", "recording-failed");
  });
  EXPECT_TRUE(end.has_value()) << DumpEvents("session.");

  // Below min_free: new sessions are refused, and that is audited.
  SshUser u2 = NewUser();
  auto refused = Ssh(u2, u2.name + ":rtu-01", {"echo", "should-not-run"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("recordings cannot be written"));
  EXPECT_EQ(refused.out.find("should-not-run"), std::string::npos);
  EXPECT_TRUE(WaitForEvent("session.refused", [](const nlohmann::json&) { return true; }))
      << DumpEvents("session.");

  // Room again: sessions work.
  for (const auto& f : FilesEndingWith(mnt, ".cast")) fs::remove(f);
  SshUser u3 = NewUser();
  auto ok = Ssh(u3, u3.name + ":rtu-01", {"echo", "recorded-again"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("recorded-again"));
}

}  // namespace
}  // namespace portcullis::testing
