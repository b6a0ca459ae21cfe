#include "tests/integration/ssh_test_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <random>

#include "broker/common/encoding.h"

namespace portcullis::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Answers OpenSSH's keyboard-interactive prompts (ssh passes the prompt as
// $1 and reads the answer from stdout) and logs each prompt.
constexpr char kAskpassScript[] = R"(#!/bin/sh
printf '%s\n' "$1" >> "$PC_ASKPASS_DIR/prompts"
case "$1" in
  *Password*) cat "$PC_ASKPASS_DIR/password" ;;
  *Verification*) cat "$PC_ASKPASS_DIR/code" ;;
  *) exit 1 ;;
esac
)";

std::string Tail(const std::string& text, size_t n = 6000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string OpsRoleYaml(std::string_view name, std::string_view login,
                        std::string_view file_transfer, std::string_view extra) {
  return fmt::format(
      "kind: role\n"
      "name: {}\n"
      "allow:\n"
      "  targets: {{site: plant-a}}\n"
      "  logins: [{}]\n"
      "  protocols: [ssh]\n"
      "  file_transfer: {}\n"
      "{}",
      name, login, file_transfer, extra);
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string PseudoRandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = gen();
    for (size_t k = 0; k < 4 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
  }
  return out;
}

bool DetailIs(const nlohmann::json& event, const std::string& key, const std::string& value) {
  const auto& d = event.value("details", nlohmann::json::object());
  if (!d.is_object() || !d.contains(key)) return false;
  const auto& v = d.at(key);
  return v.is_string() ? v.get<std::string>() == value : v.dump() == value;
}

// --- EchoServer ---

EchoServer::EchoServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    return;  // port() stays 0
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

EchoServer::~EchoServer() {
  if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0) ::close(fd);
}

void EchoServer::Loop() {
  std::vector<int> clients;
  for (;;) {
    std::vector<pollfd> fds = {{stop_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (int c : clients) fds.push_back({c, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents) break;
    if (fds[1].revents & POLLIN) {
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        clients.push_back(c);
        ++accepted_;
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char buf[16384];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      bool keep = n > 0;
      for (ssize_t off = 0; keep && off < n;) {
        ssize_t w = ::write(fds[i].fd, buf + off, static_cast<size_t>(n - off));
        if (w <= 0) keep = false;
        off += w;
      }
      if (!keep) {
        ::close(fds[i].fd);
        std::erase(clients, fds[i].fd);
      }
    }
  }
  for (int c : clients) ::close(c);
}

std::string EchoRoundTrip(int fd, std::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string_view left = data;
  while (!left.empty()) {
    ssize_t w = ::send(fd, left.data(), left.size(), MSG_NOSIGNAL);
    if (w <= 0) break;
    left.remove_prefix(static_cast<size_t>(w));
  }
  std::string got;
  while (got.size() < data.size()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (ms.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(ms.count())) <= 0) break;
    char buf[16384];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// --- SshTest ---

void SshTest::SetUp() {
  if (!SshdFixture::Available()) GTEST_SKIP() << "needs root, /usr/sbin/sshd and ssh-keygen";
  // The clients must see only the environment the tests give them.
  for (const char* v : {"SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY", "SSH_AUTH_SOCK"})
    ::unsetenv(v);
  login_ = CurrentUserName();
  ASSERT_FALSE(login_.empty());
}

void SshTest::TearDown() {
  if (HasFailure() && broker_) {
    std::cerr << "--- portcullisd log (tail) ---\n" << Tail(broker_->Log()) << "\n";
    if (target_) std::cerr << "--- target sshd log (tail) ---\n" << Tail(target_->log()) << "\n";
  }
  if (target_) target_->Stop();
  BrokerTest::TearDown();
}

void SshTest::StartAll(EnvOptions options) {
  BrokerOptions bo;
  bo.ssh_port = PickFreePort();
  bo.extra_config = options.broker_extra_config;
  bo.auth_extra = options.broker_auth_extra;
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndLoginAdmin(bo));
  ASSERT_NE(ssh_port(), 0);
  ASSERT_NO_FATAL_FAILURE(ApplyRole(OpsRoleYaml("ops", login_)));
  CommandResult ca = Admin({"ca", "export", "--ssh"});
  ASSERT_EQ(ca.exit_code, 0) << Describe(ca);
  ca_line_ = ca.out;

  SshdOptions so;
  so.trusted_user_ca_keys = ca_line_;
  so.extra_config = options.sshd_extra;
  so.extra_config.push_back("Subsystem sftp internal-sftp");
  target_ = std::make_unique<SshdFixture>(so);
  auto st = target_->Start();
  ASSERT_TRUE(st.ok()) << st;
  const std::string address = fmt::format("127.0.0.1:{}", target_->port());
  CommandResult rtu = AddTarget("rtu-01", address, {"--label", "site=plant-a"});
  ASSERT_EQ(rtu.exit_code, 0) << Describe(rtu);
  CommandResult plc = AddTarget("plc-09", address, {"--label", "site=plant-b"});
  ASSERT_EQ(plc.exit_code, 0) << Describe(plc);
}

void SshTest::ApplyRole(const std::string& yaml) {
  const std::string path = broker().Join(fmt::format("role-{}.yaml", next_file_++));
  ASSERT_TRUE(WriteWholeFile(path, yaml).ok());
  CommandResult r = Admin({"roles", "apply", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << Describe(r) << "\n" << yaml;
}

CommandResult SshTest::AddTarget(const std::string& name, const std::string& address,
                                 const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"targets", "add",        name, "--address",
                                   address,   "--protocol", "ssh"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Admin(args);
}

SshUser SshTest::NewUser(const std::vector<std::string>& roles) {
  SshUser u;
  u.name = fmt::format("u{}", next_user_++);
  u.password = fmt::format("pw-{}-correct-horse-battery", u.name);
  auto secret = broker().AddUser(u.name, u.password, roles);
  EXPECT_TRUE(secret.ok()) << secret.status();
  if (secret.ok()) u.secret = *secret;
  return u;
}

std::vector<std::string> SshTest::AskpassEnv(const SshUser& user, std::optional<std::string> code) {
  const std::string script = broker().Join("askpass.sh");
  if (::access(script.c_str(), X_OK) != 0) {
    EXPECT_TRUE(WriteWholeFile(script, kAskpassScript, 0700).ok());
  }
  const std::string dir = broker().Join("askpass-" + user.name);
  ::mkdir(dir.c_str(), 0700);
  EXPECT_TRUE(WriteWholeFile(dir + "/password", user.password + "\n", 0600).ok());
  EXPECT_TRUE(
      WriteWholeFile(dir + "/code", code.value_or(TotpCode(user.secret)) + "\n", 0600).ok());
  return {"SSH_ASKPASS=" + script, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:0",
          "PC_ASKPASS_DIR=" + dir};
}

std::string SshTest::Prompts(const SshUser& user) const {
  auto text = ReadWholeFile(broker_->Join("askpass-" + user.name) + "/prompts");
  return text.ok() ? *text : std::string();
}

std::vector<std::string> SshTest::ClientOptions() {
  return {"-F", "/dev/null",
          "-o", "StrictHostKeyChecking=no",
          "-o", "UserKnownHostsFile=/dev/null",
          "-o", "GlobalKnownHostsFile=/dev/null",
          "-o", "LogLevel=ERROR",
          "-o", "PreferredAuthentications=keyboard-interactive",
          "-o", "NumberOfPasswordPrompts=1",
          "-o", "IdentityAgent=none",
          "-o", "ConnectTimeout=20"};
}

std::vector<std::string> SshTest::SshArgv(const std::string& spec,
                                          const std::vector<std::string>& command,
                                          const std::vector<std::string>& extra) const {
  std::vector<std::string> argv = {"ssh", "-p", std::to_string(broker_->options().ssh_port)};
  // OpenSSH keeps the first value of an option: `extra` goes first to win.
  argv.insert(argv.end(), extra.begin(), extra.end());
  for (const auto& o : ClientOptions()) argv.push_back(o);
  argv.push_back(spec + "@127.0.0.1");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

CommandResult SshTest::Ssh(const SshUser& user, const std::string& spec,
                           const std::vector<std::string>& command, std::string_view stdin_data,
                           const std::vector<std::string>& extra,
                           std::chrono::milliseconds timeout) {
  return RunCommand(SshArgv(spec, command, extra), stdin_data, timeout, AskpassEnv(user));
}

CommandResult SshTest::Client(const SshUser& user, const std::vector<std::string>& argv,
                              std::string_view stdin_data, std::chrono::milliseconds timeout) {
  return RunCommand(argv, stdin_data, timeout, AskpassEnv(user));
}

std::unique_ptr<PtyProcess> SshTest::SshOnPty(const SshUser& user, const std::string& spec,
                                              const std::vector<std::string>& command,
                                              const std::vector<std::string>& extra) {
  std::vector<std::string> all = {"-tt"};
  all.insert(all.end(), extra.begin(), extra.end());
  auto p = PtyProcess::Start(SshArgv(spec, command, all), AskpassEnv(user));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

std::vector<nlohmann::json> SshTest::AuditEvents(const std::string& type) {
  CommandResult r = Admin({"audit", "ls", "--json", "--limit", "10000", "--type", type});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  auto parsed = nlohmann::json::parse(r.out, nullptr, false);
  std::vector<nlohmann::json> out;
  const bool prefix = !type.empty() && type.back() == '.';
  if (parsed.is_array()) {
    for (auto& e : parsed) {
      // The CLI filters by prefix: "session.end" would match "session.ending".
      if (prefix || e.value("type", "") == type) out.push_back(e);
    }
  }
  return out;
}

std::optional<nlohmann::json> SshTest::WaitForEvent(
    const std::string& type, const std::function<bool(const nlohmann::json&)>& match,
    std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    for (const auto& e : AuditEvents(type)) {
      if (match(e)) return e;
    }
    if (SteadyClock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string SshTest::DumpEvents(const std::string& type) {
  nlohmann::json all = nlohmann::json::array();
  for (auto& e : AuditEvents(type)) {
    e.erase("hash");
    e.erase("prev_hash");
    all.push_back(e);
  }
  return all.dump(1);
}

}  // namespace portcullis::testing
