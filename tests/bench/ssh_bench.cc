// bench_ssh: the SSH access path against its baselines, measured in the same
// run on loopback (`make bench`; never a timed unit test):
//  * a 256 MiB stream to `cat >/dev/null` through portcullis (recording on)
//    vs directly to the same sshd vs OpenSSH ProxyJump through a second sshd;
//  * download: the same stream target -> user as a command's output and as
//    an scp download, recorded and unrecorded, vs direct and ProxyJump
//    (BENCH_ONLY=download runs only this part);
//  * recording overhead: terminal text target -> user through a recording
//    broker vs an identical one that discards it (runs alternated);
//  * session setup (connect to first command output);
//  * keystroke echo latency p50/p99 through a pty;
//  * the broker's RSS with N idle sessions (default 1000) and 100 busy ones;
//  * flow control: the broker's RSS growth for one connection whose client
//    ignores the SSH window on 4 (and on 10, the default cap) channels, vs
//    one idle connection and vs what one direct connection costs sshd.
//    BENCH_ONLY=window runs only this part;
//  * session setup, also to a vaulted-password target (BENCH_ONLY=setup).
// Users log in once with `portcullis login` and then use the login
// certificate (no TOTP per session). Env: BENCH_MIB, BENCH_IDLE, BENCH_BUSY,
// BENCH_KEYS, BENCH_ROUNDS.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/broker_fixture.h"
#include "tests/support/local_account.h"
#include "tests/support/sshd_fixture.h"

using namespace portcullis::testing;
using Clock = std::chrono::steady_clock;

namespace {

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : def;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "bench_ssh: %s\n", why.c_str());
  std::exit(1);
}

// Runs `ssh -F config host command` with stdin from `in_file` ("" = none);
// returns the wall time, dies on a non-zero exit.
double TimeSsh(const std::string& config, const std::string& host, const std::string& command,
               const std::string& in_file) {
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_file.empty() ? "/dev/null" : in_file.c_str(), O_RDONLY);
    int out = open("/dev/null", O_WRONLY);
    dup2(in, 0);
    dup2(out, 1);
    execlp("ssh", "ssh", "-F", config.c_str(), host.c_str(), command.c_str(), nullptr);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  double s = Seconds(Clock::now() - t0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) Die("ssh " + host + " " + command + " failed");
  return s;
}

// Wall time of `argv` (stdin /dev/null, stdout /dev/null); dies unless it
// exits 0.
double TimeCommand(const std::vector<std::string>& argv) {
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open("/dev/null", O_WRONLY);
    dup2(in, 0);
    dup2(out, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  double s = Seconds(Clock::now() - t0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) Die(argv[0] + " " + argv.back() + " failed");
  return s;
}

// CPU time all processors spent busy since boot (/proc/stat), in seconds.
double BusyCpuSeconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Keystroke echo through `ssh -tt`: writes one character, waits for it to
// come back (the target pty's echo). Returns per-key latencies in ms.
std::vector<double> EchoLatency(const std::string& config, const std::string& host, int keys) {
  int fd = -1;
  pid_t pid = forkpty(&fd, nullptr, nullptr, nullptr);
  if (pid == 0) {
    execlp("ssh", "ssh", "-tt", "-F", config.c_str(), host.c_str(), nullptr);
    _exit(127);
  }
  std::string seen;
  auto read_until = [&](const std::string& what, int timeout_ms) {
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    while (seen.find(what) == std::string::npos && Clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) > 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        seen.append(buf, static_cast<size_t>(n));
      }
    }
    return seen.find(what) != std::string::npos;
  };
  // A prompt-independent marker: the shell prints it when ready.
  const std::string ready = "echo READY-$((40+2))\r";
  (void)!write(fd, ready.data(), ready.size());
  if (!read_until("READY-42", 20000)) Die("no shell on " + host);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  seen.clear();
  std::vector<double> ms;
  for (int i = 0; i < keys; ++i) {
    const char c = static_cast<char>('a' + i % 26);
    seen.clear();
    auto t0 = Clock::now();
    (void)!write(fd, &c, 1);
    if (!read_until(std::string(1, c), 5000)) Die("no echo on " + host + ": " + seen);
    ms.push_back(Seconds(Clock::now() - t0) * 1000.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  (void)!write(fd, "\x15" "exit\r", 6);
  read_until("\n__never__", 2000);  // drain until the shell exits
  kill(pid, SIGTERM);
  int st;
  waitpid(pid, &st, 0);
  close(fd);
  return ms;
}

pid_t SpawnSsh(const std::string& config, const std::string& host, const std::string& command,
               const std::string& in_file) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_file.empty() ? "/dev/null" : in_file.c_str(), O_RDONLY);
    int out = open("/dev/null", O_WRONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execlp("ssh", "ssh", "-F", config.c_str(), host.c_str(), command.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Every process below `root` (not `root` itself).
std::vector<pid_t> Descendants(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> procs;  // pid, ppid
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream f(e.path() / "stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    procs.emplace_back(std::atoi(name.c_str()), ppid);
  }
  std::vector<pid_t> below = {root};
  for (size_t i = 0; i < below.size(); ++i)
    for (const auto& [pid, ppid] : procs)
      if (ppid == below[i]) below.push_back(pid);
  below.erase(below.begin());
  return below;
}

// Sum of VmRSS (KiB) of every process below `root`.
long DescendantsRssKiB(pid_t root) {
  long sum = 0;
  for (pid_t p : Descendants(root)) sum += std::max(0L, ProcStatusKib(p));
  return sum;
}

// The `sleep` commands the sessions of the sshd `root` run (its own
// descendants only), added to `found`; the bench ends them by PID.
void NoteSleepsBelow(pid_t root, std::set<pid_t>* found) {
  for (pid_t p : Descendants(root)) {
    std::ifstream f("/proc/" + std::to_string(p) + "/comm");
    std::string comm;
    if (std::getline(f, comm) && comm == "sleep") found->insert(p);
  }
}

int LiveSessions(BrokerFixture& broker) {
  auto r = broker.Cli(broker.AdminHome(), {"sessions", "ls", "--json"});
  if (r.exit_code != 0) return -1;
  int n = 0;
  for (size_t p = 0; (p = r.out.find("\"id\"", p)) != std::string::npos; ++p) ++n;
  return n;
}

}  // namespace

int main() {
  if (!SshdFixture::Available()) {
    std::printf("bench_ssh: skipped (needs root, sshd and ssh-keygen)\n");
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const int mib = EnvInt("BENCH_MIB", 256);
  const int idle_n = EnvInt("BENCH_IDLE", 1000);
  const int busy_n = EnvInt("BENCH_BUSY", 100);
  const std::string login = CurrentUserName();

  // Two brokers, provisioned alike: `broker` records (as in production);
  // `unrec` runs with --benchmark-unrecorded (hidden, audited) and discards
  // what it would record. The recording-overhead runs alternate between
  // them, so drift on a shared machine hits both equally.
  const std::string role = "kind: role\nname: bench\nallow:\n  targets: {site: bench}\n  logins: [" +
                           login + "]\n  protocols: [ssh]\n  file_transfer: both\n";
  // A vaulted-password target: an sshd that takes passwords only, for a
  // throwaway local account whose password only the broker's vault holds.
  const std::string vault_login = "pcbench1";
  const std::string vault_role = "kind: role\nname: bench-vault\nallow:\n  targets: {site: "
                                 "bench-vault}\n  logins: [" + vault_login +
                                 "]\n  protocols: [ssh]\n";
  const std::string password = "bench-password-0123456789";
  auto provision = [&](BrokerFixture& b) {
    if (auto st = b.Init(); !st.ok()) Die(std::string(st.message()));
    if (auto st = b.Start(); !st.ok()) Die(std::string(st.message()));
    if (b.LoginAdmin().exit_code != 0) Die("admin login failed");
    (void)WriteWholeFile(b.Join("bench-role.yaml"), role);
    auto r = b.Cli(b.AdminHome(), {"roles", "apply", "-f", b.Join("bench-role.yaml")});
    if (r.exit_code != 0) Die("roles apply: " + r.err);
    (void)WriteWholeFile(b.Join("bench-vault-role.yaml"), vault_role);
    r = b.Cli(b.AdminHome(), {"roles", "apply", "-f", b.Join("bench-vault-role.yaml")});
    if (r.exit_code != 0) Die("roles apply: " + r.err);
    auto secret = b.AddUser("bench", password, {"bench", "bench-vault"});
    if (!secret.ok()) Die("users add failed");
    return *secret;
  };
  BrokerOptions bo;
  bo.ssh_port = PickFreePort();
  bo.log_level = "info";
  BrokerFixture broker(bo);
  const std::string secret = provision(broker);
  BrokerOptions uo = bo;
  uo.ssh_port = PickFreePort();
  uo.daemon_args = {"--benchmark-unrecorded"};
  BrokerFixture unrec(uo);
  const std::string unrec_secret = provision(unrec);
  auto admin = [&](const std::vector<std::string>& args, std::string_view in = "") {
    auto r = broker.Cli(broker.AdminHome(), args, in);
    if (r.exit_code != 0) Die("portcullis " + args[0] + ": " + r.err);
    return r;
  };
  const std::string ca = admin({"ca", "export", "--ssh"}).out;
  const std::string unrec_ca = unrec.Cli(unrec.AdminHome(), {"ca", "export", "--ssh"}).out;

  TempDir dir("pc-bench");
  const std::string key = dir.Join("benchkey");
  if (RunCommand({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key}).exit_code != 0)
    Die("ssh-keygen failed");
  auto pub = ReadWholeFile(key + ".pub");
  (void)WriteWholeFile(dir.Join("authorized_keys"), *pub, 0600);
  const std::vector<std::string> extra = {"AuthorizedKeysFile " + dir.Join("authorized_keys"),
                                          "StrictModes no", "MaxStartups 4000:30:8000",
                                          "AllowTcpForwarding yes", "UseDNS no",
                                          "Subsystem sftp internal-sftp"};
  // The target trusts both brokers' user CAs.
  SshdFixture target(SshdOptions{ca + "\n" + unrec_ca, extra});
  SshdFixture jump(SshdOptions{ca, extra});
  if (auto st = target.Start(); !st.ok()) Die(std::string(st.message()));
  if (auto st = jump.Start(); !st.ok()) Die(std::string(st.message()));
  const std::vector<std::string> add_target = {
      "targets", "add", "rtu-01", "--address", "127.0.0.1:" + std::to_string(target.port()),
      "--protocol", "ssh", "--label", "site=bench"};
  admin(add_target);
  if (unrec.Cli(unrec.AdminHome(), add_target).exit_code != 0) Die("targets add failed");
  const std::string vault_password = "bench-vaulted-Pw-7741";
  auto vault_account = LocalAccount::Create(vault_login, vault_password);
  if (!vault_account.ok()) Die("local account: " + std::string(vault_account.status().message()));
  SshdOptions vault_opts;
  vault_opts.extra_config = {"PasswordAuthentication yes", "PubkeyAuthentication no", "UseDNS no",
                             "MaxStartups 4000:30:8000"};
  SshdFixture vault_target(vault_opts);
  if (auto st = vault_target.Start(); !st.ok()) Die(std::string(st.message()));
  admin({"targets", "add", "vault-01", "--address",
         "127.0.0.1:" + std::to_string(vault_target.port()), "--protocol", "ssh", "--auth",
         "password", "--label", "site=bench-vault"});
  admin({"targets", "set-secret", "vault-01", "--login", vault_login, "--password-stdin"},
        vault_password);

  const std::string home = broker.Home("bench");
  if (broker.Login(home, "bench", password, TotpCode(secret)).exit_code != 0)
    Die("bench login failed");
  const std::string unrec_home = unrec.Home("bench");
  if (unrec.Login(unrec_home, "bench", password, TotpCode(unrec_secret)).exit_code != 0)
    Die("bench login (unrecorded broker) failed");
  const std::string unrec_via = unrec_home + "/ssh_config";
  const std::string via = home + "/ssh_config";
  const std::string common = "  User " + login + "\n  IdentityFile " + key +
                             "\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
                             "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n";
  const std::string base_cfg = dir.Join("baseline_config");
  (void)WriteWholeFile(
      base_cfg, "Host direct\n  HostName 127.0.0.1\n  Port " + std::to_string(target.port()) +
                    "\n" + common + "Host jump\n  HostName 127.0.0.1\n  Port " +
                    std::to_string(jump.port()) + "\n" + common +
                    "Host viajump\n  HostName 127.0.0.1\n  Port " + std::to_string(target.port()) +
                    "\n  ProxyJump jump\n" + common);
  // The ssh_config from `portcullis login` also needs our baseline options
  // for the jump alias; ssh reads both through -F of each path.

  // Flow control against a client that ignores the SSH window
  // (tests/integration/window_flood_client.py, python3-paramiko).
  auto window_bench = [&] {
    const auto w0 = Clock::now();
    std::printf("flow control: broker RSS growth for one connection (MiB, peak)\n");
    std::fflush(stdout);
    // Baselines: one idle connection through the broker; one direct
    // connection's sshd processes.
    std::set<pid_t> sleeps;
    auto end_sleeps = [&] {
      for (pid_t s : sleeps) kill(s, SIGTERM);
      sleeps.clear();
    };
    auto idle_cost = [&](const std::string& cfg, const std::string& host, auto measure) {
      const long before = measure();
      pid_t p = SpawnSsh(cfg, host, "sleep 3608", "");
      std::this_thread::sleep_for(std::chrono::seconds(3));
      const long after = measure();
      NoteSleepsBelow(target.pid(), &sleeps);
      kill(p, SIGTERM);
      waitpid(p, nullptr, 0);
      end_sleeps();
      std::this_thread::sleep_for(std::chrono::seconds(1));
      return (after - before) / 1024.0;
    };
    const pid_t bpid = broker.pid();
    const double idle_mib = idle_cost(via, "rtu-01", [&] { return ProcStatusKib(bpid); });
    const double sshd_mib =
        idle_cost(base_cfg, "direct", [&] { return DescendantsRssKiB(target.pid()); });
    // A stock client keeps to the window: 100 MiB to a command that never
    // reads its input.
    const std::string flood_file = dir.Join("flood.bin");
    RunCommand({"sh", "-c", "head -c 100M /dev/zero > " + flood_file});
    long peak = 0;
    const long stock0 = ProcStatusKib(bpid);
    pid_t sp = SpawnSsh(via, "rtu-01", "sleep 6", flood_file);
    for (;;) {
      peak = std::max(peak, ProcStatusKib(bpid));
      int st;
      if (waitpid(sp, &st, WNOHANG) == sp) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double stock_mib = (peak - stock0) / 1024.0;
    std::remove(flood_file.c_str());
    // The hostile client: N exec channels running `sleep`, 64 MiB sent on
    // each past the window.
    auto flood = [&](int channels) {
      const std::string user = "flood" + std::to_string(channels);
      auto s = broker.AddUser(user, password, {"bench"});
      if (!s.ok()) Die("users add " + user + " failed");
      const std::string askpass = dir.Join("askpass-" + user);
      ::mkdir(askpass.c_str(), 0700);
      (void)WriteWholeFile(askpass + "/password", password + "\n", 0600);
      (void)WriteWholeFile(askpass + "/code", TotpCode(*s) + "\n", 0600);
      const long r0 = ProcStatusKib(bpid);
      long top = r0;
      pid_t pid = fork();
      if (pid == 0) {
        setenv("PC_ASKPASS_DIR", askpass.c_str(), 1);
        int out = open("/dev/null", O_WRONLY);
        dup2(out, 1);
        const std::string script = std::string(PC_SOURCE_DIR) +
                                   "/tests/integration/window_flood_client.py";
        const std::string port = std::to_string(broker.options().ssh_port);
        const std::string spec = user + ":rtu-01";
        const std::string n = std::to_string(channels);
        execl("/usr/bin/python3", "python3", script.c_str(), "--port", port.c_str(), "--spec",
               spec.c_str(), "--mode", "flood", "--channels", n.c_str(), "--command", "sleep 600",
               nullptr);
        _exit(127);
      }
      int st = 0;
      for (int i = 0;; ++i) {
        top = std::max(top, ProcStatusKib(bpid));
        if (i % 10 == 0) NoteSleepsBelow(target.pid(), &sleeps);
        if (waitpid(pid, &st, WNOHANG) == pid) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      end_sleeps();
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) Die("window_flood_client.py failed");
      return (top - r0) / 1024.0;
    };
    const double flood4 = flood(4);
    const double flood10 = flood(10);
    std::printf("  baselines: one idle connection via portcullis %.1f; one direct connection costs "
                "sshd %.1f\n",
                idle_mib, sshd_mib);
    std::printf("  stock ssh, 100 MiB to a command that never reads stdin   %.1f   ratio vs idle "
                "%.1f\n",
                stock_mib, stock_mib / std::max(idle_mib, 0.1));
    std::printf("  window-ignoring client, 4 channels x 64 MiB   %.1f   ratio vs idle %.1f, vs "
                "direct sshd %.1f\n",
                flood4, flood4 / std::max(idle_mib, 0.1), flood4 / std::max(sshd_mib, 0.1));
    std::printf("  window-ignoring client, 10 channels (the default cap) x 64 MiB   %.1f   ratio "
                "vs idle %.1f, vs direct sshd %.1f   (%.0f s)\n",
                flood10, flood10 / std::max(idle_mib, 0.1), flood10 / std::max(sshd_mib, 0.1),
                Seconds(Clock::now() - w0));
    std::fflush(stdout);
  };
  if (const char* only = std::getenv("BENCH_ONLY"); only && std::string(only) == "window") {
    window_bench();
    (void)unrec.Stop();
    if (auto st = broker.Stop(); !st.ok()) Die(std::string(st.message()));
    return 0;
  }

  const std::string file = dir.Join("stream.bin");
  RunCommand({"sh", "-c", "head -c " + std::to_string(mib) + "M /dev/urandom > " + file});

  // Target -> user: `mib` MiB of binary as a command's output (`cat FILE`
  // to the client's stdout) and as an scp download (SFTP, OpenSSH's
  // default), via the recording broker, the discarding one, directly and
  // through ProxyJump, and `mib` MiB of text (base64 lines, as logs and
  // listings are) as a command's output. Runs alternate; median of
  // BENCH_ROUNDS.
  auto download_bench = [&] {
    const int n = EnvInt("BENCH_ROUNDS", 5);
    const std::string cat_file = "cat " + file;
    const std::string text_file = dir.Join("download.txt");
    RunCommand({"sh", "-c", "head -c " + std::to_string(mib * 3 / 4) + "M /dev/urandom | base64 > " +
                                text_file});
    const std::string cat_text = "cat " + text_file;
    const std::string dest = dir.Join("download.bin");
    struct Path {
      const char* name;
      std::string cfg, host;
      std::vector<double> cat, scp, text;
    };
    std::vector<Path> paths = {{"direct", base_cfg, "direct", {}, {}, {}},
                               {"OpenSSH ProxyJump", base_cfg, "viajump", {}, {}, {}},
                               {"via portcullis, unrecorded", unrec_via, "rtu-01", {}, {}, {}},
                               {"via portcullis, recorded", via, "rtu-01", {}, {}, {}}};
    for (auto& p : paths) TimeSsh(p.cfg, p.host, "true", "");  // warm-up
    for (int i = 0; i < n; ++i) {
      for (size_t k = 0; k < paths.size(); ++k) {
        Path& p = paths[(k + static_cast<size_t>(i)) % paths.size()];
        p.cat.push_back(TimeSsh(p.cfg, p.host, cat_file, ""));
        p.text.push_back(TimeSsh(p.cfg, p.host, cat_text, ""));
        p.scp.push_back(
            TimeCommand({"scp", "-q", "-F", p.cfg, p.host + ":" + file, dest}));
        std::filesystem::remove(dest);
      }
    }
    std::printf("download, %d MiB target -> user (MiB/s, median of %d, incl. setup; targets: "
                ">= 0.90 x direct unrecorded, >= 0.80 x direct recorded)\n",
                mib, n);
    const double cat_direct = mib / Median(paths[0].cat);
    const double scp_direct = mib / Median(paths[0].scp);
    const double text_mib = static_cast<double>(std::filesystem::file_size(text_file)) / (1 << 20);
    const double text_direct = text_mib / Median(paths[0].text);
    for (const auto& p : paths) {
      const double c = mib / Median(p.cat), sc = mib / Median(p.scp);
      const double tx = text_mib / Median(p.text);
      std::printf("  %-28s cat binary %7.1f (%.2f x direct)   scp %7.1f (%.2f x direct)   cat text "
                  "%7.1f (%.2f x direct)\n",
                  p.name, c, c / cat_direct, sc, sc / scp_direct, tx, tx / text_direct);
    }
    std::fflush(stdout);
  };
  // Session setup: connect to first output, direct, ProxyJump, through the
  // broker with a certificate and with a vaulted password
  // (BENCH_ONLY=setup runs only this part).
  auto setup_bench = [&] {
    auto setup = [&](const std::string& cfg, const std::string& host) {
      std::vector<double> t;
      for (int i = 0; i < 10; ++i) t.push_back(TimeSsh(cfg, host, "echo ready", ""));
      return Median(t) * 1000.0;
    };
    const double su_direct = setup(base_cfg, "direct");
    const double su_jump = setup(base_cfg, "viajump");
    const double su_pc = setup(via, "rtu-01");
    std::printf("session setup, connect to first output (ms, median of 10)\n");
    std::printf("  direct %.1f   ProxyJump %.1f   via portcullis %.1f   ratio vs direct %.2f (target "
                "<= 1.50)\n",
                su_direct, su_jump, su_pc, su_pc / su_direct);
    // The same through the broker to a target that takes only passwords: the
    // broker opens the vaulted password and logs in with it (runs alternate
    // with certificate logins).
    std::vector<double> su_cert, su_vault;
    TimeSsh(via, "vault-01", "true", "");  // warm-up (pins the host key)
    for (int i = 0; i < 10; ++i) {
      su_cert.push_back(TimeSsh(via, "rtu-01", "echo ready", ""));
      su_vault.push_back(TimeSsh(via, "vault-01", "echo ready", ""));
    }
    const double su_c = Median(su_cert) * 1000.0, su_v = Median(su_vault) * 1000.0;
    std::printf("  vaulted-password login %.1f   certificate login %.1f   ratio %.2f (target <= 1.20)\n",
                su_v, su_c, su_v / su_c);
    std::fflush(stdout);
  };
  if (const char* only = std::getenv("BENCH_ONLY"); only && std::string(only) == "setup") {
    setup_bench();
    (void)unrec.Stop();
    if (auto st = broker.Stop(); !st.ok()) Die(std::string(st.message()));
    return 0;
  }
  if (const char* only = std::getenv("BENCH_ONLY"); only && std::string(only) == "download") {
    download_bench();
    (void)unrec.Stop();
    if (auto st = broker.Stop(); !st.ok()) Die(std::string(st.message()));
    return 0;
  }
  std::printf("SSH access path benchmark (loopback, %d MiB stream, recording on)\n", mib);
  std::fflush(stdout);

  // Warm-up (host keys pinned, page cache).
  TimeSsh(via, "rtu-01", "true", "");
  TimeSsh(base_cfg, "direct", "true", "");
  TimeSsh(base_cfg, "viajump", "true", "");

  auto throughput = [&](const std::string& cfg, const std::string& host) {
    std::vector<double> t;
    for (int i = 0; i < 3; ++i) t.push_back(TimeSsh(cfg, host, "cat >/dev/null", file));
    return mib / Median(t);
  };
  const double tp_direct = throughput(base_cfg, "direct");
  const double tp_jump = throughput(base_cfg, "viajump");
  const double tp_pc = throughput(via, "rtu-01");
  std::printf("throughput (MiB/s, median of 3, incl. setup)\n");
  std::printf("  direct               %8.1f\n", tp_direct);
  std::printf("  OpenSSH ProxyJump    %8.1f\n", tp_jump);
  std::printf("  via portcullis       %8.1f   ratio vs direct %.2f (target >= 0.70), vs ProxyJump "
              "%.2f (target >= 1.50)\n",
              tp_pc, tp_pc / tp_direct, tp_pc / tp_jump);
  std::fflush(stdout);

  // Recording overhead: terminal output (text) flows target -> user and is
  // recorded, sealed and checkpointed by `broker`; `unrec` discards it.
  const std::string text = dir.Join("stream.txt");
  RunCommand({"sh", "-c", "head -c " + std::to_string(mib * 3 / 4) + "M /dev/urandom | base64 > " +
                              text});
  const std::string cat_text = "cat " + text;
  const int rounds = EnvInt("BENCH_ROUNDS", 5);
  std::vector<double> t_direct, t_rec, t_unrec, cpu_rec, cpu_unrec, up_rec, up_unrec;
  // Wall time, and the CPU time the whole machine spent (clients, sshd,
  // broker, kernel), per run.
  auto timed = [&](const std::string& cfg, std::vector<double>* t, std::vector<double>* cpu) {
    const double c0 = BusyCpuSeconds();
    t->push_back(TimeSsh(cfg, "rtu-01", cat_text, ""));
    cpu->push_back(BusyCpuSeconds() - c0);
  };
  auto upload = [&](const std::string& cfg, std::vector<double>* t) {
    t->push_back(TimeSsh(cfg, "rtu-01", "cat >/dev/null", file));
  };
  TimeSsh(unrec_via, "rtu-01", "true", "");  // warm-up
  for (int i = 0; i < rounds; ++i) {
    // Alternate which goes first, so neither always follows the other.
    t_direct.push_back(TimeSsh(base_cfg, "direct", cat_text, ""));
    if (i % 2 == 0) {
      timed(via, &t_rec, &cpu_rec);
      timed(unrec_via, &t_unrec, &cpu_unrec);
      upload(via, &up_rec);
      upload(unrec_via, &up_unrec);
    } else {
      timed(unrec_via, &t_unrec, &cpu_unrec);
      timed(via, &t_rec, &cpu_rec);
      upload(unrec_via, &up_unrec);
      upload(via, &up_rec);
    }
  }
  download_bench();
  if (auto st = unrec.Stop(); !st.ok()) Die(std::string(st.message()));
  const double dl_direct = mib / Median(t_direct);
  const double dl_rec = mib / Median(t_rec);
  const double dl_unrec = mib / Median(t_unrec);
  const double up_r = mib / Median(up_rec);
  const double up_u = mib / Median(up_unrec);
  std::printf("recording overhead (recording broker vs the same broker discarding; MiB/s, median "
              "of %d, runs alternated; target <= 5 %%)\n",
              rounds);
  std::printf("  throughput benchmark (%d MiB upload; the session is recorded and sealed, its input "
              "is not: record_input off)   unrecorded %.1f   recorded %.1f   ratio %.3f (overhead "
              "%.1f %%)\n",
              mib, up_u, up_r, up_r / up_u, (1.0 - up_r / up_u) * 100.0);
  std::printf("  worst case, %d MiB of terminal text target -> user, every byte recorded   direct "
              "%.1f   unrecorded %.1f   recorded %.1f   ratio %.3f (overhead %.1f %%)\n",
              mib, dl_direct, dl_unrec, dl_rec, dl_rec / dl_unrec, (1.0 - dl_rec / dl_unrec) * 100.0);
  const double ms_rec = Median(cpu_rec) * 1000.0 / mib;
  const double ms_unrec = Median(cpu_unrec) * 1000.0 / mib;
  std::printf("    worst case, CPU of the whole machine per MiB (ms, median): unrecorded %.2f, recorded+sealed %.2f "
              "(recording adds %.0f %%); busy share during the unrecorded runs %.0f %% of %ld CPUs\n",
              ms_unrec, ms_rec, (ms_rec / ms_unrec - 1.0) * 100.0,
              Median(cpu_unrec) / Median(t_unrec) / static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)) *
                  100.0,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);

  setup_bench();

  const int keys = EnvInt("BENCH_KEYS", 300);
  auto ed = EchoLatency(base_cfg, "direct", keys);
  auto ep = EchoLatency(via, "rtu-01", keys);
  std::printf("keystroke echo latency (ms, %d keys)\n", keys);
  std::printf("  direct         p50 %.3f  p99 %.3f\n", Percentile(ed, 0.5), Percentile(ed, 0.99));
  std::printf("  via portcullis p50 %.3f  p99 %.3f   added p99 %.3f ms (target <= 1.0)\n",
              Percentile(ep, 0.5), Percentile(ep, 0.99),
              Percentile(ep, 0.99) - Percentile(ed, 0.99));
  std::fflush(stdout);

  const pid_t bpid = broker.pid();
  const long rss0 = ProcStatusKib(bpid);
  std::vector<pid_t> idle;
  auto t0 = Clock::now();
  // Opened in batches of 50, each batch live before the next (the broker
  // caps connections that have not authenticated yet).
  int live = 0;
  for (int i = 0; i < idle_n; ++i) {
    idle.push_back(SpawnSsh(via, "rtu-01", "sleep 3607", ""));
    if (i % 50 == 49 || i == idle_n - 1) {
      auto deadline = Clock::now() + std::chrono::seconds(60);
      while (live < i + 1 - 2 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        live = LiveSessions(broker);
      }
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  live = LiveSessions(broker);
  const long rss_idle = ProcStatusKib(bpid);
  std::printf("broker RSS (MiB): at start %.1f; %d idle sessions live (of %d, %.0f s to open) %.1f  "
              "(target <= 512 at 1000)\n",
              rss0 / 1024.0, live, idle_n, Seconds(Clock::now() - t0), rss_idle / 1024.0);
  std::fflush(stdout);
  // Without a pty, the target's `sleep` outlives its session: note them
  // while they are still below the target's sshd, and end them by PID.
  std::set<pid_t> sleeps;
  NoteSleepsBelow(target.pid(), &sleeps);
  for (pid_t p : idle) kill(p, SIGTERM);
  for (pid_t p : idle) waitpid(p, nullptr, 0);
  for (pid_t p : sleeps) kill(p, SIGTERM);

  const std::string busy_file = dir.Join("busy.bin");
  RunCommand({"sh", "-c", "head -c 32M /dev/urandom > " + busy_file});
  std::vector<pid_t> busy;
  long rss_busy = 0;
  auto b0 = Clock::now();
  for (int i = 0; i < busy_n; ++i) busy.push_back(SpawnSsh(via, "rtu-01", "cat >/dev/null", busy_file));
  int done = 0;
  while (done < busy_n) {
    rss_busy = std::max(rss_busy, ProcStatusKib(bpid));
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p > 0) {
      ++done;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const double bs = Seconds(Clock::now() - b0);
  std::printf("broker RSS (MiB): %d busy sessions (32 MiB each, %.1f MiB/s in all) peak %.1f\n",
              busy_n, busy_n * 32.0 / bs, rss_busy / 1024.0);
  window_bench();
  if (auto st = broker.Stop(); !st.ok()) Die(std::string(st.message()));
  return 0;
}
