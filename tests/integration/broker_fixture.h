#pragma once
// BrokerFixture: a real `portcullisd` for end-to-end tests, driven through
// the real `portcullis` CLI. In its own TempDir it writes a config (API on
// 127.0.0.1:<free port>, other listeners disabled unless asked for, cheap
// Argon2 so tests are fast), runs `portcullisd init --admin alice
// --password-stdin`, starts the daemon with stdout+stderr going to a log
// file, and stops it by PID.
//
// TOTP codes are computed in-process from the enrolment secret. A code is
// accepted once per user (replay protection) and only within +-1 step of
// the broker's clock: one user can log in at most twice per 30 s (steps 0
// and +1), so tests use separate users or brokers.
//
// BrokerTest is the GoogleTest base: StartBroker() in the test, and
// TearDown() asserts a clean shutdown (SIGTERM -> exit 0 within 5 s).
// Not thread-safe. Test-only code.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/test_util.h"

namespace portcullis::testing {

inline constexpr char kAdminName[] = "alice";
inline constexpr char kAdminPassword[] = "alice-Admin-pw-7f3a-staple";

std::string DaemonPath();  // the built portcullisd
std::string CliPath();     // the built portcullis

struct BrokerOptions {
  int lockout_failures = 5;
  std::string log_level = "info";
  std::string token_ttl = "12h";
  std::string admin_password = kAdminPassword;
  // API port; 0 = a free one (Start() retries another if it gets taken).
  int port = 0;
  // listen.ssh port; 0 = the SSH listener disabled.
  int ssh_port = 0;
  // listen.vnc port; 0 = the VNC listener disabled (`portcullis access`
  // then refuses to issue tickets).
  int vnc_port = 0;
  // auth.argon2_memory_kib (the fixture default is cheap).
  int argon2_memory_kib = 8192;
  // Appended to the auth: section, e.g. "  max_concurrent_logins: 4\n".
  std::string auth_extra;
  // Appended verbatim to the config (top-level sections, e.g. "ssh:\n  ...").
  std::string extra_config;
  // Appended to `portcullisd --config FILE`.
  std::vector<std::string> daemon_args;
};

class BrokerFixture {
 public:
  explicit BrokerFixture(BrokerOptions options = {});
  // SIGKILLs a daemon that Stop() did not stop.
  ~BrokerFixture();
  BrokerFixture(const BrokerFixture&) = delete;
  BrokerFixture& operator=(const BrokerFixture&) = delete;

  // Writes the config and runs `portcullisd init`; keeps its output and the
  // admin's TOTP secret.
  [[nodiscard]] absl::Status Init();
  // Starts `portcullisd --config` and waits (10 s) for "portcullisd ready"
  // in the log. Retries on another port if the port was taken meanwhile.
  [[nodiscard]] absl::Status Start();
  // SIGTERM, then waits 5 s for exit status 0 (clean shutdown). Anything
  // else is an error (the daemon is then SIGKILLed). Idempotent.
  [[nodiscard]] absl::Status Stop();
  // SIGKILLs the daemon (a crash) and reaps it. Idempotent.
  void Kill();
  bool running() const { return pid_ > 0; }

  // Runs the CLI with PORTCULLIS_HOME=home.
  CommandResult Cli(const std::string& home, const std::vector<std::string>& args,
                    std::string_view stdin_data = "") const;
  // `portcullis login --broker ... --ca <data>/tls/ca.pem --user U --totp C
  // --password-stdin` into `home`.
  CommandResult Login(const std::string& home, std::string_view user, std::string_view password,
                      std::string_view totp_code) const;
  // Logs the admin into AdminHome() with the code of step now+step_offset.
  CommandResult LoginAdmin(int step_offset = 0) const;
  // As the admin (AdminHome()): `users add NAME --role R... --password-stdin`;
  // returns the new user's TOTP secret (base32).
  [[nodiscard]] absl::StatusOr<std::string> AddUser(std::string_view name,
                                                    std::string_view password,
                                                    const std::vector<std::string>& roles);

  // A CLI home directory (not created; the CLI creates it on login).
  std::string Home(std::string_view name) const { return dir_.Join("home-" + std::string(name)); }
  std::string AdminHome() const { return Home(kAdminName); }

  const std::string& dir() const { return dir_.path(); }
  std::string Join(std::string_view name) const { return dir_.Join(name); }
  std::string config_path() const { return dir_.Join("portcullis.yaml"); }
  std::string data_dir() const { return dir_.Join("data"); }
  std::string db_path() const { return data_dir() + "/portcullis.db"; }
  std::string ca_pem_path() const { return data_dir() + "/tls/ca.pem"; }
  std::string log_path() const { return dir_.Join("portcullisd.log"); }
  std::string address() const;  // 127.0.0.1:PORT
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const BrokerOptions& options() const { return options_; }
  // For the next Start().
  void set_daemon_args(std::vector<std::string> args) { options_.daemon_args = std::move(args); }
  const CommandResult& init_result() const { return init_result_; }
  const std::string& admin_totp_secret() const { return admin_secret_; }
  // Everything the daemon wrote so far.
  std::string Log() const;

 private:
  absl::Status WriteConfig();
  absl::Status SpawnAndWait(bool* port_taken);

  BrokerOptions options_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  CommandResult init_result_;
  std::string admin_secret_;
};

// The "secret=" value (base32) of the first otpauth:// URI in `text`; "" if
// there is none.
std::string ExtractTotpSecret(std::string_view text);
// RFC 4648 base32 (no padding) to bytes; "" on a bad character.
std::string Base32Decode(std::string_view text);
// The TOTP code of `base32_secret` at now + step_offset * 30 s.
std::string TotpCode(std::string_view base32_secret, int step_offset = 0);
// A 6-digit code valid at none of the steps now-2 .. now+2.
std::string WrongTotpCode(std::string_view base32_secret);
// Mode bits (& 07777) of `path`, or -1.
int FileMode(const std::string& path);

// GoogleTest base class: one broker per test, clean shutdown asserted.
class BrokerTest : public ::testing::Test {
 protected:
  // Init + Start; fails the test (fatally) on error.
  void StartBroker(BrokerOptions options = {});
  // Init + Start + admin login into AdminHome().
  void StartBrokerAndLoginAdmin(BrokerOptions options = {});
  void TearDown() override;

  BrokerFixture& broker() { return *broker_; }
  // Runs the CLI as the admin.
  CommandResult Admin(const std::vector<std::string>& args, std::string_view stdin_data = "") {
    return broker_->Cli(broker_->AdminHome(), args, stdin_data);
  }

  std::unique_ptr<BrokerFixture> broker_;
};

// "exit=N\nstdout:\n...\nstderr:\n..." for assertion messages.
std::string Describe(const CommandResult& r);

}  // namespace portcullis::testing
