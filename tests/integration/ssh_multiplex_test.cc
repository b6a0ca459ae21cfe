// One SSH connection, many channels: the stock OpenSSH client multiplexing
// sessions over a ControlMaster connection to the broker. Two menus on one
// connection (the second choice is refused: a connection has one target,
// and the broker stays up), the decision in force after a refused or
// failed choice (the one that admitted the target in use: its
// file_transfer and record_input), and three exec channels at once, each
// with its own output, exit status and recording.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "broker/common/files.h"
#include "tests/integration/ssh_test_env.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SshMultiplexTest : public SshTest {
 protected:
  void TearDown() override {
    master_.reset();  // SIGKILL by PID, reaped
    if (!control_path_.empty()) ::unlink(control_path_.c_str());
    SshTest::TearDown();
  }

  // Starts `ssh -M -N` as `user` to `spec` and waits for its control socket.
  void StartMaster(const SshUser& user, const std::string& spec) {
    static int n = 0;
    // Short: a unix socket path has a small limit.
    control_path_ = fmt::format("/tmp/pc-cm-{}-{}", getpid(), n++);
    ::unlink(control_path_.c_str());
    auto p = PtyProcess::Start(
        SshArgv(spec, {}, {"-M", "-N", "-S", control_path_, "-o", "ControlPersist=no"}),
        AskpassEnv(user));
    ASSERT_TRUE(p.ok()) << p.status();
    master_ = std::move(*p);
    for (int i = 0; i < 300; ++i) {
      struct stat st {};
      if (::stat(control_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return;
      ASSERT_TRUE(master_->running()) << "the master exited: " << master_->output();
      master_->ReadSome(std::chrono::milliseconds(100));
    }
    FAIL() << "no control socket; master output: " << master_->output();
  }

  // ssh over the master's connection: -S path, then `extra`, host, command.
  std::vector<std::string> MuxArgv(const std::vector<std::string>& extra,
                                   const std::vector<std::string>& command) const {
    std::vector<std::string> argv = {"ssh", "-S", control_path_, "-o", "ControlMaster=no"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("portcullis-mux");  // ignored: the master's connection is used
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
  std::unique_ptr<PtyProcess> MuxOnPty(const std::vector<std::string>& extra) {
    auto p = PtyProcess::Start(MuxArgv(extra, {}));
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  // The catalogue rows of `user`'s recordings once `count` are complete (sealed).
  nlohmann::json WaitForCompleteRecordings(const std::string& user, size_t count) {
    nlohmann::json last;
    for (int i = 0; i < 150; ++i) {
      CommandResult ls = Admin({"recordings", "ls", "--json", "--user", user});
      last = nlohmann::json::parse(ls.out, nullptr, false);
      size_t complete = 0;
      if (last.is_array())
        for (const auto& r : last) complete += r.value("state", "") == "complete";
      if (complete >= count) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "fewer than " << count << " complete recordings of " << user
                  << "; last: " << last.dump();
    return nlohmann::json::array();
  }

  // The portcullis header of recording `id` (exported as asciicast).
  nlohmann::json RecordingHeader(const std::string& id) {
    const std::string out = broker().Join("rec-" + id + ".cast");
    CommandResult exp = Admin({"recordings", "export", id, "--format", "cast", "-o", out});
    EXPECT_EQ(exp.exit_code, 0) << Describe(exp);
    auto text = ReadWholeFile(out);
    if (!text.ok()) return nlohmann::json();
    auto header = nlohmann::json::parse(text->substr(0, text->find('\n')), nullptr, false);
    return header.is_object() ? header.value("portcullis", nlohmann::json()) : nlohmann::json();
  }

  std::string control_path_;
  std::unique_ptr<PtyProcess> master_;
};

TEST_F(SshMultiplexTest, TwoMenusOnOneConnectionTheSecondChoiceIsRefusedAndTheFirstGoesOn) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  ASSERT_NO_FATAL_FAILURE(StartMaster(u, u.name));

  // Two sessions without a remote terminal: each gets the menu.
  auto first = MuxOnPty({"-T"});
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->ReadUntil("Choose a target")) << first->output();
  auto second = MuxOnPty({"-T"});
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->ReadUntil("Choose a target")) << second->output();

  ASSERT_TRUE(first->Write("1\necho first-$((20+1))\n"));
  ASSERT_TRUE(first->ReadUntil("first-21")) << first->output();
  ASSERT_TRUE(second->Write("1\n"));
  EXPECT_TRUE(second->ReadUntil(
      "portcullis: this connection is already connected to rtu-01; open a new connection to "
      "reach another target"))
      << second->output();
  auto code = second->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << second->output();
  EXPECT_EQ(*code, 1) << second->output();

  // The first channel still reaches its target.
  ASSERT_TRUE(first->Write("echo still-$((40+2))\n"));
  EXPECT_TRUE(first->ReadUntil("still-42")) << first->output();
  ASSERT_TRUE(first->Write("exit 6\n"));
  code = first->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << first->output();
  EXPECT_EQ(*code, 6) << first->output();

  auto refused = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
    return e["actor"] == u.name && e["outcome"] == "denied" &&
           DetailIs(e, "rule", "one-target-per-connection");
  });
  ASSERT_TRUE(refused.has_value()) << DumpEvents("policy.");
  EXPECT_EQ((*refused)["subject"], "rtu-01");
  EXPECT_THAT((*refused)["details"].value("reason", ""), HasSubstr("already connected to rtu-01"));

  // The broker is still up: the live session is listed and a fresh
  // connection works.
  CommandResult ls = Admin({"sessions", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << Describe(ls);
  EXPECT_THAT(ls.out, HasSubstr(u.name)) << Describe(ls);
  SshUser v = NewUser();
  CommandResult r = Ssh(v, v.name + ":rtu-01", {"echo fresh-$((3*3))"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "fresh-9\n") << Describe(r);
}

TEST_F(SshMultiplexTest, AChannelOpenedAfterTheMenuChoiceRelaysToTheChosenTarget) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  ASSERT_NO_FATAL_FAILURE(StartMaster(u, u.name));
  auto menu = MuxOnPty({"-T"});
  ASSERT_NE(menu, nullptr);
  ASSERT_TRUE(menu->ReadUntil("Choose a target")) << menu->output();
  ASSERT_TRUE(menu->Write("rtu-01\necho chosen-$((5+5))\n"));
  ASSERT_TRUE(menu->ReadUntil("chosen-10")) << menu->output();
  // A later exec and a later shell on the same connection reach rtu-01.
  CommandResult r = RunCommand(MuxArgv({}, {"echo later-$((7*6)); exit 5"}));
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_EQ(r.out, "later-42\n") << Describe(r);
  auto shell = MuxOnPty({"-T"});
  ASSERT_NE(shell, nullptr);
  ASSERT_TRUE(shell->Write("echo shell-$((1+1))\nexit 3\n"));
  EXPECT_TRUE(shell->ReadUntil("shell-2")) << shell->output();
  EXPECT_THAT(shell->output(), Not(HasSubstr("Choose a target")));
  auto code = shell->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << shell->output();
  EXPECT_EQ(*code, 3);
  ASSERT_TRUE(menu->Write("exit\n"));
  EXPECT_TRUE(menu->WaitExit(std::chrono::seconds(20)).has_value()) << menu->output();
}

TEST_F(SshMultiplexTest, AMenuThatIsTheOnlyChannelAndEndsLeavesTheConnectionUsable) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  ASSERT_NO_FATAL_FAILURE(StartMaster(u, u.name));
  auto gone = MuxOnPty({"-T"});
  ASSERT_NE(gone, nullptr);
  ASSERT_TRUE(gone->ReadUntil("Choose a target")) << gone->output();
  ASSERT_TRUE(gone->Write("\x04"));  // end of input on the local terminal
  auto code = gone->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "a menu whose input ended stays open: " << gone->output();
  EXPECT_NE(*code, 0);
  auto quit = MuxOnPty({"-T"});
  ASSERT_NE(quit, nullptr);
  ASSERT_TRUE(quit->ReadUntil("Choose a target")) << quit->output();
  ASSERT_TRUE(quit->Write("q\n"));
  EXPECT_TRUE(quit->WaitExit(std::chrono::seconds(20)).has_value()) << quit->output();
  // The connection still takes a menu and a choice.
  auto menu = MuxOnPty({"-T"});
  ASSERT_NE(menu, nullptr);
  ASSERT_TRUE(menu->ReadUntil("Choose a target")) << menu->output();
  ASSERT_TRUE(menu->Write("1\necho again-$((4+4))\nexit 2\n"));
  EXPECT_TRUE(menu->ReadUntil("again-8")) << menu->output();
  code = menu->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << menu->output();
  EXPECT_EQ(*code, 2);
  EXPECT_TRUE(master_->running()) << master_->output();
}

TEST_F(SshMultiplexTest, ThreeExecChannelsAtOnceEachWithItsOutputExitStatusAndRecording) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  SshUser u = NewUser();
  ASSERT_NO_FATAL_FAILURE(StartMaster(u, u.name + ":rtu-01"));
  std::vector<std::future<CommandResult>> runs;
  for (int i = 1; i <= 3; ++i) {
    // Each sleeps, so the three channels are open at the same time.
    const std::string cmd = fmt::format(
        "sleep 1; echo out-{0}-$((100*{0})); echo err-{0} >&2; sleep 1; exit {0}", i);
    runs.push_back(std::async(std::launch::async, [this, cmd] {
      return RunCommand(MuxArgv({}, {cmd}), "", std::chrono::seconds(60));
    }));
  }
  for (int i = 1; i <= 3; ++i) {
    CommandResult r = runs[i - 1].get();
    EXPECT_EQ(r.exit_code, i) << Describe(r);
    EXPECT_EQ(r.out, fmt::format("out-{}-{}\n", i, 100 * i)) << Describe(r);
    EXPECT_EQ(r.err, fmt::format("err-{}\n", i)) << Describe(r);
  }
  // Each channel is its own recording, with its command.
  nlohmann::json recs = WaitForCompleteRecordings(u.name, 3);
  ASSERT_TRUE(recs.is_array());
  for (int i = 1; i <= 3; ++i) {
    EXPECT_THAT(recs.dump(), HasSubstr(fmt::format("echo out-{0}-$((100*{0}))", i)))
        << recs.dump();
  }
  EXPECT_EQ(recs.size(), 3u) << recs.dump();
}

// bob holds role A (rtu-01: downloads only, input recorded) and role B (a
// lab target that cannot be reached: uploads and downloads, input not
// recorded).
class SshMultiplexPolicyTest : public SshMultiplexTest {
 protected:
  void SetUpRoles() {
    ASSERT_NO_FATAL_FAILURE(StartAll());
    ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("role-a", login(), "download",
                                                  "options:\n  record_input: true\n")));
    ASSERT_NO_FATAL_FAILURE(ApplyRole(fmt::format(
        "kind: role\nname: role-b\nallow:\n  targets: {{site: lab}}\n  logins: [{}]\n"
        "  protocols: [ssh]\n  file_transfer: both\noptions:\n  record_input: false\n",
        login())));
    // Nothing listens there: the connection is refused at once.
    CommandResult lab = AddTarget("lab-01", fmt::format("127.0.0.1:{}", PickFreePort()),
                                  {"--label", "site=lab"});
    ASSERT_EQ(lab.exit_code, 0) << Describe(lab);
    bob_ = NewUser({"role-a", "role-b"});
  }

  // sftp over the master's connection: uploads `local` to `remote`.
  CommandResult SftpPut(const std::string& local, const std::string& remote) {
    std::vector<std::string> argv = {"sftp", "-o", "ControlPath=" + control_path_, "-o",
                                     "ControlMaster=no", "portcullis-mux"};
    return RunCommand(argv, fmt::format("put {} {}\nbye\n", local, remote));
  }

  // After the choices: an upload is refused by role A, and an exec is
  // recorded with role A's record_input.
  void ExpectRoleAInForce() {
    const std::string local = broker().Join("upload.bin");
    const std::string remote = broker().Join("uploaded-" + bob_.name + ".bin");
    ASSERT_TRUE(WriteWholeFile(local, "setpoint=42\n").ok());
    CommandResult put = SftpPut(local, remote);
    EXPECT_FALSE(PathExists(remote)) << "the upload reached the target: " << Describe(put);
    auto denied = WaitForEvent("policy.decision", [&](const nlohmann::json& e) {
      return e["actor"] == bob_.name && e["outcome"] == "denied" &&
             DetailIs(e, "request", "sftp");
    });
    ASSERT_TRUE(denied.has_value()) << DumpEvents("policy.");
    EXPECT_THAT((*denied)["details"].value("reason", ""), HasSubstr("role-a"));

    CommandResult r = RunCommand(MuxArgv({}, {"echo recorded-$((2*4))"}));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.out, "recorded-8\n") << Describe(r);
    // The menu's shell is still open: the exec is the one complete recording.
    nlohmann::json recs = WaitForCompleteRecordings(bob_.name, 1);
    std::string exec_id;
    for (const auto& rec : recs)
      if (rec.value("command", "").find("recorded-") != std::string::npos)
        exec_id = rec.value("id", "");
    ASSERT_FALSE(exec_id.empty()) << recs.dump();
    nlohmann::json header = RecordingHeader(exec_id);
    EXPECT_EQ(header.value("record_input", false), true) << header.dump();
    EXPECT_EQ(header.value("target", ""), "rtu-01") << header.dump();
  }

  SshUser bob_;
};

TEST_F(SshMultiplexPolicyTest, AFailedChoiceOnAnotherChannelLeavesTheAdmittingDecisionInForce) {
  ASSERT_NO_FATAL_FAILURE(SetUpRoles());
  ASSERT_NO_FATAL_FAILURE(StartMaster(bob_, bob_.name));
  auto first = MuxOnPty({"-T"});
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->ReadUntil("Choose a target")) << first->output();
  auto second = MuxOnPty({"-T"});
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->ReadUntil("Choose a target")) << second->output();
  ASSERT_TRUE(first->Write("rtu-01\necho a-$((1+1))\n"));
  ASSERT_TRUE(first->ReadUntil("a-2")) << first->output();
  ASSERT_TRUE(second->Write("lab-01\n"));
  EXPECT_TRUE(second->WaitExit(std::chrono::seconds(30)).has_value()) << second->output();
  ASSERT_NO_FATAL_FAILURE(ExpectRoleAInForce());
  ASSERT_TRUE(first->Write("exit\n"));
  EXPECT_TRUE(first->WaitExit(std::chrono::seconds(20)).has_value()) << first->output();
}

TEST_F(SshMultiplexPolicyTest, AFailedChoiceThenAGoodOneOnTheSameMenuUsesTheGoodOnesDecision) {
  ASSERT_NO_FATAL_FAILURE(SetUpRoles());
  ASSERT_NO_FATAL_FAILURE(StartMaster(bob_, bob_.name));
  auto menu = MuxOnPty({"-T"});
  ASSERT_NE(menu, nullptr);
  ASSERT_TRUE(menu->ReadUntil("Choose a target")) << menu->output();
  ASSERT_TRUE(menu->Write("lab-01\n"));
  // The line (stderr) and the new prompt (stdout) may come in either order.
  ASSERT_TRUE(menu->ReadUntil("portcullis: cannot reach lab-01")) << menu->output();
  ASSERT_TRUE(menu->Write("rtu-01\necho b-$((2+1))\n"));
  ASSERT_TRUE(menu->ReadUntil("b-3")) << menu->output();
  ASSERT_NO_FATAL_FAILURE(ExpectRoleAInForce());
  ASSERT_TRUE(menu->Write("exit\n"));
  EXPECT_TRUE(menu->WaitExit(std::chrono::seconds(20)).has_value()) << menu->output();
}

}  // namespace
}  // namespace portcullis::testing
