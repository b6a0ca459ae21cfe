#include "tests/integration/broker_fixture.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>

#include "auth/identity/totp.h"
#include "broker/common/clock.h"
#include "broker/common/secret.h"

extern char** environ;

namespace portcullis::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr auto kCliTimeout = std::chrono::seconds(60);

std::string Tail(const std::string& text, size_t n = 4000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("wait status {}", status);
}

}  // namespace

namespace {
// PORTCULLIS_TEST_BIN_DIR runs the tests against another build's
// portcullisd and portcullis (e.g. an older commit, to see a regression test
// fail there); unset, the binaries of this build.
std::string BinDir(std::string_view sub) {
  const char* dir = std::getenv("PORTCULLIS_TEST_BIN_DIR");
  if (dir != nullptr && *dir != '\0') return fmt::format("{}/{}", dir, sub);
  return fmt::format("{}/{}", PC_BUILD_DIR, sub);
}
}  // namespace
std::string DaemonPath() { return BinDir("broker/daemon/portcullisd"); }
std::string CliPath() { return BinDir("broker/cli/portcullis"); }

BrokerFixture::BrokerFixture(BrokerOptions options)
    : options_(std::move(options)), dir_("pc-broker-it") {
  // The CLI must see only the PORTCULLIS_HOME we pass.
  ::unsetenv("PORTCULLIS_HOME");
}

BrokerFixture::~BrokerFixture() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

std::string BrokerFixture::address() const { return fmt::format("127.0.0.1:{}", port_); }

std::string BrokerFixture::Log() const {
  auto text = ReadWholeFile(log_path());
  return text.ok() ? *text : std::string();
}

absl::Status BrokerFixture::WriteConfig() {
  std::string yaml = fmt::format(
      "data_dir: data\n"
      "listen:\n"
      "  grpc: 127.0.0.1:{}\n"
      "  ssh: 127.0.0.1:{}\n"
      "  vnc: 127.0.0.1:{}\n"
      "  rdp: 127.0.0.1:0\n"
      "auth:\n"
      "  token_ttl: {}\n"
      "  lockout_failures: {}\n"
      "  argon2_memory_kib: {}\n"
      "  argon2_iterations: 1\n"
      "{}"
      "log:\n"
      "  level: {}\n"
      "{}",
      port_, options_.ssh_port, options_.vnc_port, options_.token_ttl, options_.lockout_failures,
      options_.argon2_memory_kib, options_.auth_extra, options_.log_level, options_.extra_config);
  return WriteWholeFile(config_path(), yaml, 0640);
}

absl::Status BrokerFixture::Init() {
  port_ = options_.port != 0 ? options_.port : PickFreePort();
  if (port_ == 0) return absl::InternalError("no free port");
  if (auto st = WriteConfig(); !st.ok()) return st;
  init_result_ = RunCommand({DaemonPath(), "init", "--config", config_path(), "--admin",
                             kAdminName, "--password-stdin"},
                            options_.admin_password + "\n", kCliTimeout);
  if (init_result_.exit_code != 0) {
    return absl::InternalError("portcullisd init failed: " + Describe(init_result_));
  }
  admin_secret_ = ExtractTotpSecret(init_result_.out);
  if (admin_secret_.empty()) {
    return absl::InternalError("no otpauth secret in init output: " + init_result_.out);
  }
  return absl::OkStatus();
}

absl::Status BrokerFixture::SpawnAndWait(bool* port_taken) {
  *port_taken = false;
  int log_fd = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return absl::InternalError("cannot create " + log_path());
  size_t log_start = Log().size();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::string daemon = DaemonPath();
  std::string config = config_path();
  std::vector<std::string> args = {daemon, "--config", config};
  args.insert(args.end(), options_.daemon_args.begin(), options_.daemon_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, daemon.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(log_fd);
  if (rc != 0) return absl::InternalError(fmt::format("cannot run {}: {}", daemon, strerror(rc)));
  pid_ = pid;

  const auto deadline = SteadyClock::now() + kReadyTimeout;
  while (SteadyClock::now() < deadline) {
    std::string log = Log();
    std::string mine = log.size() > log_start ? log.substr(log_start) : "";
    if (mine.find("portcullisd ready") != std::string::npos) return absl::OkStatus();
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *port_taken = mine.find("cannot listen") != std::string::npos;
      return absl::InternalError(
          fmt::format("portcullisd exited ({}) before ready:\n{}", DescribeStatus(status), mine));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::DeadlineExceededError("portcullisd not ready within 10 s:\n" + Tail(Log()));
}

absl::Status BrokerFixture::Start() {
  if (pid_ > 0) return absl::FailedPreconditionError("already running");
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool port_taken = false;
    last = SpawnAndWait(&port_taken);
    if (last.ok() || !port_taken || options_.port != 0) return last;
    port_ = PickFreePort();
    if (auto st = WriteConfig(); !st.ok()) return st;
  }
  return last;
}

absl::Status BrokerFixture::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  ::kill(pid_, SIGTERM);
  const auto deadline = SteadyClock::now() + kStopTimeout;
  int status = 0;
  while (SteadyClock::now() < deadline) {
    pid_t w = ::waitpid(pid_, &status, WNOHANG);
    if (w == pid_) {
      pid_ = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
      return absl::InternalError(
          fmt::format("portcullisd did not shut down cleanly ({}):\n{}", DescribeStatus(status),
                      Tail(Log())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::DeadlineExceededError("portcullisd ignored SIGTERM for 5 s:\n" + Tail(Log()));
}

void BrokerFixture::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

CommandResult BrokerFixture::Cli(const std::string& home, const std::vector<std::string>& args,
                                 std::string_view stdin_data) const {
  std::vector<std::string> argv = {CliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, stdin_data, kCliTimeout, {"PORTCULLIS_HOME=" + home});
}

CommandResult BrokerFixture::Login(const std::string& home, std::string_view user,
                                   std::string_view password, std::string_view totp_code) const {
  return Cli(home,
             {"login", "--broker", address(), "--ca", ca_pem_path(), "--user", std::string(user),
              "--totp", std::string(totp_code), "--password-stdin"},
             std::string(password) + "\n");
}

CommandResult BrokerFixture::LoginAdmin(int step_offset) const {
  return Login(AdminHome(), kAdminName, options_.admin_password,
               TotpCode(admin_secret_, step_offset));
}

absl::StatusOr<std::string> BrokerFixture::AddUser(std::string_view name,
                                                   std::string_view password,
                                                   const std::vector<std::string>& roles) {
  std::vector<std::string> args = {"users", "add", std::string(name), "--password-stdin"};
  for (const auto& r : roles) {
    args.push_back("--role");
    args.push_back(r);
  }
  CommandResult r = Cli(AdminHome(), args, std::string(password) + "\n");
  if (r.exit_code != 0) return absl::InternalError("users add failed: " + Describe(r));
  std::string secret = ExtractTotpSecret(r.out);
  if (secret.empty()) return absl::InternalError("users add printed no otpauth URI: " + r.out);
  return secret;
}

std::string ExtractTotpSecret(std::string_view text) {
  size_t uri = text.find("otpauth://");
  if (uri == std::string_view::npos) return "";
  size_t at = text.find("secret=", uri);
  if (at == std::string_view::npos) return "";
  at += 7;
  size_t end = at;
  while (end < text.size() && ((text[end] >= 'A' && text[end] <= 'Z') ||
                               (text[end] >= '2' && text[end] <= '7'))) {
    ++end;
  }
  return std::string(text.substr(at, end - at));
}

std::string Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return "";
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string TotpCode(std::string_view base32_secret, int step_offset) {
  auto seed = SecretBytes::FromString(Base32Decode(base32_secret));
  if (!seed.ok() || seed->empty()) return "bad-seed";
  TimePoint at = SystemClock::Get()->Now() + std::chrono::seconds(30 * step_offset);
  auto code = auth::TotpCodeAt(*seed, at);
  return code.ok() ? *code : "bad-code";
}

std::string WrongTotpCode(std::string_view base32_secret) {
  std::set<std::string> valid;
  for (int k = -2; k <= 2; ++k) valid.insert(TotpCode(base32_secret, k));
  for (int candidate = 123456;; candidate = (candidate + 1) % 1000000) {
    std::string code = fmt::format("{:06d}", candidate);
    if (!valid.count(code)) return code;
  }
}

int FileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

std::string Describe(const CommandResult& r) {
  return fmt::format("exit={}{}\nstdout:\n{}\nstderr:\n{}", r.exit_code,
                     r.timed_out ? " (timed out)" : "", r.out, r.err);
}

void BrokerTest::StartBroker(BrokerOptions options) {
  broker_ = std::make_unique<BrokerFixture>(std::move(options));
  auto init = broker_->Init();
  ASSERT_TRUE(init.ok()) << init;
  auto start = broker_->Start();
  ASSERT_TRUE(start.ok()) << start;
}

void BrokerTest::StartBrokerAndLoginAdmin(BrokerOptions options) {
  ASSERT_NO_FATAL_FAILURE(StartBroker(std::move(options)));
  CommandResult login = broker_->LoginAdmin();
  ASSERT_EQ(login.exit_code, 0) << Describe(login);
}

void BrokerTest::TearDown() {
  if (!broker_) return;
  auto st = broker_->Stop();
  EXPECT_TRUE(st.ok()) << "clean shutdown: " << st;
  std::string log = broker_->Log();
  EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
  EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
  EXPECT_EQ(log.find("LeakSanitizer"), std::string::npos) << log;
}

}  // namespace portcullis::testing
