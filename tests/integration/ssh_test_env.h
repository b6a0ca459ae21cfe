#pragma once
// SshTest: the SSH access path end to end, with the real OpenSSH clients
// (ssh, scp, sftp) against a real portcullisd and a real sshd target on
// 127.0.0.1.
//
// StartAll() starts a broker with its SSH listener, logs the admin in,
// applies the role `ops` (targets site=plant-a, login = the account running
// the tests, protocols ssh, file_transfer both), starts an sshd whose only
// trust is `portcullis ca export --ssh` (with the sftp subsystem), and adds
// the targets rtu-01 (site=plant-a) and plc-09 (site=plant-b), both on that
// sshd.
//
// Keyboard-interactive without a terminal: the clients run with
// SSH_ASKPASS=<a script>, SSH_ASKPASS_REQUIRE=force; the script logs every
// prompt it gets and answers "Password" with the user's password and
// "Verification code" with a TOTP code computed when the client starts.
// A code is accepted once per user and 30 s step, so every login uses a
// fresh user (NewUser()).
//
// Also: a TCP echo server for tunnel tests, and audit-log queries.
// Not thread-safe. Test-only code.

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/broker_fixture.h"
#include "tests/support/pty_process.h"
#include "tests/support/sshd_fixture.h"

namespace portcullis::testing {

struct SshUser {
  std::string name;
  std::string password;
  std::string secret;  // TOTP, base32
};

// The role `ops` with `login` as its only login and `extra` appended to its
// allow block (e.g. "  tunnels: [\"127.0.0.1:9\"]\n").
std::string OpsRoleYaml(std::string_view name, std::string_view login,
                        std::string_view file_transfer = "both", std::string_view extra = "");

// Hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// `n` pseudo-random bytes (seeded: the same n and seed give the same bytes).
std::string PseudoRandomBytes(size_t n, uint32_t seed);

// A TCP echo server on 127.0.0.1:<free port>, on its own thread (poll loop),
// until destruction.
class EchoServer {
 public:
  EchoServer();
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  int port() const { return port_; }
  // Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void Loop();
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Sends `data` on `fd` and reads until `data.size()` bytes came back, EOF or
// `timeout`. Returns what came back.
std::string EchoRoundTrip(int fd, std::string_view data,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

class SshTest : public BrokerTest {
 protected:
  struct EnvOptions {
    std::string broker_extra_config;      // BrokerOptions::extra_config
    std::vector<std::string> sshd_extra;  // SshdOptions::extra_config
    std::string broker_auth_extra;        // BrokerOptions::auth_extra (lines under auth:)
  };

  void SetUp() override;
  void TearDown() override;

  // Broker + admin + role ops + target sshd + targets rtu-01, plc-09.
  void StartAll(EnvOptions options = {});

  // Writes `yaml` to a file and applies it as the admin; fatal on failure.
  void ApplyRole(const std::string& yaml);
  // `targets add NAME --address ... --protocol ssh` + `extra` as the admin.
  CommandResult AddTarget(const std::string& name, const std::string& address,
                          const std::vector<std::string>& extra);
  // A new user (u1, u2, ...) with `roles` (a failed `users add` fails the test).
  SshUser NewUser(const std::vector<std::string>& roles = {"ops"});

  // Environment for a client that logs `user` in by keyboard-interactive
  // (askpass): its password and the current TOTP code, or `code` if given.
  std::vector<std::string> AskpassEnv(const SshUser& user,
                                      std::optional<std::string> code = std::nullopt);
  // The prompts the askpass script got for `user`, one per line.
  std::string Prompts(const SshUser& user) const;

  // Options every client gets: no config files, no known_hosts, errors only,
  // keyboard-interactive only, one try.
  static std::vector<std::string> ClientOptions();
  // ssh -p <listener> [extra...] [ClientOptions()...] SPEC@127.0.0.1 [command...]
  // (OpenSSH keeps the first value of an option, so `extra` wins.)
  std::vector<std::string> SshArgv(const std::string& spec, const std::vector<std::string>& command,
                                   const std::vector<std::string>& extra = {}) const;
  // Runs ssh as `user` ("USER:TARGET" etc. in `spec`), with askpass.
  CommandResult Ssh(const SshUser& user, const std::string& spec,
                    const std::vector<std::string>& command, std::string_view stdin_data = "",
                    const std::vector<std::string>& extra = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Runs any client (scp, sftp, ...) with `user`'s askpass environment.
  CommandResult Client(const SshUser& user, const std::vector<std::string>& argv,
                       std::string_view stdin_data = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Starts ssh on a pseudo-terminal (ssh -tt ... for shells and menus).
  std::unique_ptr<PtyProcess> SshOnPty(const SshUser& user, const std::string& spec,
                                       const std::vector<std::string>& command,
                                       const std::vector<std::string>& extra = {});

  // Audit events of `type` ("session.end"), or of every type that starts
  // with it if it ends with '.' ("session."), oldest first.
  std::vector<nlohmann::json> AuditEvents(const std::string& type);
  // The first event of `type` (as above) for which `match` is true, waiting
  // up to `timeout` (the broker may write it just after the client exits).
  std::optional<nlohmann::json> WaitForEvent(
      const std::string& type, const std::function<bool(const nlohmann::json&)>& match,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Events of `type` (as above) as JSON text without the hashes (for
  // assertion messages).
  std::string DumpEvents(const std::string& type);

  SshdFixture& target() { return *target_; }
  int ssh_port() { return broker().options().ssh_port; }
  const std::string& login() const { return login_; }
  // The user CA line the broker's targets must trust.
  const std::string& ca_line() const { return ca_line_; }

  std::unique_ptr<SshdFixture> target_;
  std::string login_;
  std::string ca_line_;
  int next_user_ = 1;
  int next_file_ = 1;
};

// True if `event`'s details has `key` equal to `value` (string compare).
bool DetailIs(const nlohmann::json& event, const std::string& key, const std::string& value);

}  // namespace portcullis::testing
