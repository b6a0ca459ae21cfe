// Bad input to the daemon: bad configs are refused with file:line; junk on
// the API port and oversized login fields close only the offending
// connection or call; a taken API port is a startup error.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "broker/common/encoding.h"
#include "tests/integration/api_client.h"
#include "tests/integration/broker_fixture.h"
#include "portcullis/v1/auth.grpc.pb.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

// Sends `bytes` and EOF, reads whatever comes back (until EOF, or 2 s of
// silence), closes.
// Returns the number of bytes the server answered with.
size_t SendJunk(int port, const std::string& bytes) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return 0;
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may well hang up on us first
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);  // EOF: the server need not wait for more
  size_t got = 0;
  pollfd p{fd, POLLIN, 0};
  char buf[4096];
  while (::poll(&p, 1, 2000) > 0) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return got;
}

bool Alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

TEST(DaemonConfigTest, BadConfigsAreRefusedWithFileAndLine) {
  TempDir dir("pc-badcfg-it");
  struct Case {
    const char* file;
    const char* yaml;
    const char* expected;
  } cases[] = {
      {"unknown-key.yaml", "data_dir: data\nlisten:\n  grpc: 127.0.0.1:1\n  bogus: 1\n",
       "unknown-key.yaml:4: listen.bogus: unknown field"},
      {"malformed.yaml", "data_dir: data\nlisten:\n  grpc: [127.0.0.1:1\n",
       "malformed.yaml:4: malformed YAML"},
      {"bad-int.yaml", "auth:\n  lockout_failures: many\n",
       "bad-int.yaml:2: auth.lockout_failures: expected an integer"},
      {"weak-argon2.yaml", "auth:\n  argon2_memory_kib: 64\n",
       "weak-argon2.yaml:2: auth.argon2_memory_kib: expected an integer from 8192"},
      {"bad-address.yaml", "listen:\n  ssh: 0.0.0.0:99999\n",
       "bad-address.yaml:2: listen.ssh: bad address"},
      {"top-level-list.yaml", "- a\n- b\n", "top-level-list.yaml:1: (top level): expected a mapping"},
  };
  for (const auto& c : cases) {
    const std::string path = dir.Join(c.file);
    ASSERT_TRUE(WriteWholeFile(path, c.yaml).ok());
    CommandResult r = RunCommand({DaemonPath(), "--config", path}, "", std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 1) << c.file << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(dir.path() + "/" + c.expected)) << c.file;
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("ready"))) << c.file;
  }
  CommandResult missing =
      RunCommand({DaemonPath(), "--config", dir.Join("nope.yaml")}, "", std::chrono::seconds(20));
  EXPECT_EQ(missing.exit_code, 1) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("nope.yaml"));
  CommandResult none = RunCommand({DaemonPath()}, "", std::chrono::seconds(20));
  EXPECT_EQ(none.exit_code, 2) << Describe(none);
}

class RobustnessTest : public BrokerTest {};

TEST_F(RobustnessTest, JunkOnTheApiPortHurtsNoOne) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  const int port = broker().port();
  // An idle connection stays open the whole time (a slow client).
  int idle = ConnectLoopback(port);
  ASSERT_GE(idle, 0);

  std::string garbage;
  for (int i = 0; i < 64 * 1024; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xFF));
  SendJunk(port, garbage);
  SendJunk(port, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  SendJunk(port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + garbage.substr(0, 4096));
  // A TLS record header announcing a huge ClientHello, then junk.
  SendJunk(port, std::string("\x16\x03\x01\xff\xff\x01\x00\xff\xfb", 9) + garbage.substr(0, 1000));
  SendJunk(port, std::string(1, '\0'));
  ASSERT_TRUE(Alive(broker().pid()));

  CommandResult who = Admin({"whoami"});
  EXPECT_EQ(who.exit_code, 0) << Describe(who);
  CommandResult verify = Admin({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
  ::close(idle);
}

TEST_F(RobustnessTest, OversizedAndMalformedLoginsAreRefusedCleanly) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  auto stub = v1::AuthService::NewStub(ApiChannel(broker()));
  const std::string big(100 * 1024, 'a');
  const std::string code = TotpCode(broker().admin_totp_secret(), 0);
  struct Case {
    const char* name;
    std::string user, password, totp;
  } cases[] = {
      {"100 KiB user", big, kAdminPassword, code},
      {"100 KiB password", "alice", big, code},
      {"100 KiB code", "alice", kAdminPassword, big},
      {"empty everything", "", "", ""},
      {"NUL in user", std::string("alice\0x", 7), kAdminPassword, code},
  };
  for (const auto& c : cases) {
    v1::LoginRequest req;
    req.set_user(c.user);
    req.set_password(c.password);
    req.set_totp_code(c.totp);
    v1::LoginResponse resp;
    auto ctx = ApiContext();
    grpc::Status st = stub->Login(ctx.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.name << ": " << Describe(st);
    EXPECT_EQ(st.error_message(), "invalid credentials") << c.name;
    EXPECT_TRUE(resp.token().empty()) << c.name;
  }
  // Over the 1 MiB message limit: refused by gRPC before any handler runs.
  {
    v1::LoginRequest req;
    req.set_user("alice");
    req.set_password(std::string(2 << 20, 'p'));
    v1::LoginResponse resp;
    auto ctx = ApiContext();
    grpc::Status st = stub->Login(ctx.get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(st);
  }
  // The CLI refuses an overlong password line itself.
  CommandResult cli = broker().Login(broker().Home("huge"), "alice", big, code);
  EXPECT_EQ(cli.exit_code, 1) << Describe(cli);
  EXPECT_THAT(cli.err, HasSubstr("too long"));
  CommandResult cli_user = broker().Login(broker().Home("huge"), big, kAdminPassword, code);
  EXPECT_EQ(cli_user.exit_code, 1) << Describe(cli_user);
  EXPECT_EQ(cli_user.err, "portcullis: invalid credentials\n");

  // Still alive and still correct: the real login works (the code above was
  // never consumed), and nothing was logged verbatim.
  ASSERT_TRUE(Alive(broker().pid()));
  CommandResult login = broker().LoginAdmin();
  EXPECT_EQ(login.exit_code, 0) << Describe(login);
  EXPECT_THAT(broker().Log(), ::testing::Not(HasSubstr(big.substr(0, 1000))));
  CommandResult verify = Admin({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
}

TEST_F(RobustnessTest, AuditListingDoesNotReplayControlCharactersToTheTerminal) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  // An unauthenticated client picks the "user name" that lands in the audit
  // log: terminal escapes (clear screen, set title) and a forged extra row.
  // (At most 64 bytes: longer names are refused before they are audited.)
  const std::string evil = "mallory\x1b[2J\x1b]0;x\x07\r\n     1 2026-01-01 auth.login alice ok\x7f";
  ASSERT_LE(evil.size(), 64u);
  auto stub = v1::AuthService::NewStub(ApiChannel(broker()));
  v1::LoginRequest req;
  req.set_user(evil);
  req.set_password("whatever-password-1");
  req.set_totp_code("123456");
  v1::LoginResponse resp;
  auto ctx = ApiContext();
  grpc::Status st = stub->Login(ctx.get(), req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(st);

  CommandResult text = Admin({"audit", "ls", "--type", "auth.login"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("mallory"));
  for (char c : text.out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u == '\n' || (u >= 0x20 && u != 0x7f)) continue;
    ADD_FAILURE() << "control byte " << int(u) << " in:\n" << text.out;
    break;
  }
  // One line per event: the forged row is not a row.
  int lines = 0;
  for (char c : text.out) lines += c == '\n';
  CommandResult json = Admin({"audit", "ls", "--type", "auth.login", "--json"});
  auto events = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(events.is_array()) << json.out;
  EXPECT_EQ(lines, static_cast<int>(events.size())) << text.out;
  // The JSON shows the name display-safe and keeps the exact bytes, in hex,
  // for investigators.
  bool found = false;
  for (const auto& e : events) {
    if (!e["details"].is_object() || e["details"].value("actor_hex", "") != HexEncode(evil))
      continue;
    found = true;
    const std::string shown = e.value("actor", "");
    EXPECT_THAT(shown, HasSubstr("mallory"));
    for (char c : shown) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << shown;
  }
  EXPECT_TRUE(found) << json.out;
}

TEST_F(RobustnessTest, SecondDaemonOnATakenApiPortFailsToStart) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin());
  BrokerOptions opts;
  opts.port = broker().port();
  BrokerFixture second(opts);
  ASSERT_TRUE(second.Init().ok());
  absl::Status st = second.Start();
  EXPECT_FALSE(st.ok()) << "two daemons share port " << opts.port << "\n" << second.Log();
  EXPECT_THAT(second.Log(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(opts.port)));
  EXPECT_TRUE(second.Stop().ok());
  // The first one keeps every client.
  for (int i = 0; i < 5; ++i) {
    CommandResult who = Admin({"whoami"});
    EXPECT_EQ(who.exit_code, 0) << Describe(who);
  }
}

}  // namespace
}  // namespace portcullis::testing
