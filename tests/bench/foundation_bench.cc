// Foundation benchmarks (`make bench`). Each figure is printed beside a
// baseline measured in the same run, as a ratio:
//  - SSH certificate minting: Portcullis CA in-process vs OpenSSH's own
//    signer (`ssh-keygen -s`, one process per certificate, as a shell-script
//    CA would do it).
//  - Audit append (hash chain + anchor, synchronous=FULL) vs a plain SQLite
//    INSERT with the same durability settings.
//  - Policy decision with 200 roles: absolute (no external baseline exists).
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/ssh_ca.h"
#include "auth/policy/engine.h"
#include "auth/policy/role_parser.h"
#include "broker/audit/audit_log.h"
#include "broker/common/clock.h"
#include "broker/common/files.h"
#include "broker/store/database.h"

namespace pc = portcullis;
using Clock = std::chrono::steady_clock;

static double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

static std::string TempDir() {
  char templ[] = "/tmp/pc-bench-XXXXXX";
  return mkdtemp(templ);
}

static void BenchCertificates(const std::string& dir) {
  pc::ca::Ed25519Key ca_key = pc::ca::Ed25519Key::Generate();
  pc::ca::Ed25519Key subject = pc::ca::Ed25519Key::Generate();
  // Baseline files for ssh-keygen.
  (void)pc::WriteFileAtomic(dir + "/ca", std::string(ca_key.OpenSshPrivateKey("ca").Reveal()), 0600);
  (void)pc::WriteFileAtomic(dir + "/user.pub", subject.AuthorizedKeyLine("user") + "\n", 0644);

  pc::ca::SshCertificateAuthority ca(std::move(ca_key), pc::SystemClock::Get(), pc::ca::CaOptions{});
  const int n = 2000;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    pc::ca::TargetCertRequest req;
    req.subject_public_blob = subject.PublicBlob();
    req.user = "bob";
    req.session_id = "s" + std::to_string(i);
    req.login = "maint";
    if (!ca.IssueTargetCertificate(req).ok()) std::abort();
  }
  double ours = Seconds(t0, Clock::now()) / n;

  const int m = 50;
  auto t1 = Clock::now();
  for (int i = 0; i < m; ++i) {
    std::string cmd = "ssh-keygen -q -s " + dir + "/ca -I portcullis:bob:s" + std::to_string(i) +
                      " -n maint -V -30s:+5m -O clear -O permit-pty " + dir + "/user.pub";
    if (std::system(cmd.c_str()) != 0) std::abort();
  }
  double base = Seconds(t1, Clock::now()) / m;
  std::printf("%-44s %10.1f us   baseline ssh-keygen -s %10.1f us   ratio %.3f (lower is better)\n",
              "certificate mint (per cert)", ours * 1e6, base * 1e6, ours / base);
}

static void BenchAudit(const std::string& dir) {
  pc::SystemClock* clock = pc::SystemClock::Get();
  auto db = pc::store::Database::Open(dir + "/audit.db", clock);
  if (!db.ok()) std::abort();
  pc::audit::AuditLog log(db->get(), clock, dir + "/audit.anchor");
  const int n = 300;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    pc::audit::AuditEvent ev;
    ev.type = "policy.decision";
    ev.actor = "bob";
    ev.subject = "rtu-01";
    ev.outcome = "allowed";
    ev.details = {{"request", "target"}, {"login", "maint"}, {"protocol", "ssh"},
                  {"role", "vendor-acme"}, {"rule", "allow"}, {"reason", "role vendor-acme allow"},
                  {"session", std::to_string(i)}};
    if (!log.Append(ev).ok()) std::abort();
  }
  double ours = Seconds(t0, Clock::now()) / n;

  sqlite3* raw = nullptr;
  sqlite3_open((dir + "/plain.db").c_str(), &raw);
  sqlite3_exec(raw, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE t(seq INTEGER PRIMARY KEY, time TEXT, type TEXT, actor TEXT,"
               " subject TEXT, outcome TEXT, details TEXT);", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "INSERT INTO t(time,type,actor,subject,outcome,details) VALUES(?,?,?,?,?,?)",
                     -1, &st, nullptr);
  auto t1 = Clock::now();
  for (int i = 0; i < n; ++i) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, "2026-11-22T00:00:00.000000Z", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "policy.decision", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, "bob", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, "rtu-01", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, "allow", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, "{\"reason\":\"role vendor-acme allow\"}", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) std::abort();
  }
  double base = Seconds(t1, Clock::now()) / n;
  sqlite3_finalize(st);
  sqlite3_close(raw);
  std::printf("%-44s %10.1f us   baseline plain INSERT  %10.1f us   ratio %.3f (lower is better)\n",
              "audit append (hash chain + anchor, fsync)", ours * 1e6, base * 1e6, ours / base);
}

static void BenchPolicy() {
  std::string yaml;
  for (int i = 0; i < 200; ++i) {
    yaml += "---\nkind: role\nname: role-" + std::to_string(i) +
            "\nallow:\n  targets: {site: plant-" + std::to_string(i) +
            "}\n  logins: [maint]\n  protocols: [ssh]\n  hours: \"Mon-Fri 07:00-18:00 Europe/Paris\"\n"
            "deny:\n  targets: {zone: safety}\n";
  }
  auto roles = pc::policy::ParseRolesYaml(yaml, "bench.yaml");
  if (!roles.ok()) std::abort();
  std::map<std::string, pc::policy::Role> table;
  std::vector<std::string> names;
  for (auto& r : *roles) {
    names.push_back(r.name);
    table.emplace(r.name, std::move(r));
  }
  pc::policy::AccessRequest req;
  req.user = "bob";
  req.role_names = names;
  req.target = {"rtu-01", {{"site", "plant-199"}}, pc::policy::Protocol::kSsh};
  req.login = "maint";
  req.protocol = pc::policy::Protocol::kSsh;
  req.at = pc::FromUnix(1795424400);  // Monday 10:00 Paris
  const int n = 2000;
  auto t0 = Clock::now();
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += pc::policy::Decide(table, req).allowed;
  double ours = Seconds(t0, Clock::now()) / n;
  if (allowed != n) std::abort();
  std::printf("%-44s %10.1f us   (no external baseline; worst case: last of 200 roles matches)\n",
              "policy decision, 200 roles", ours * 1e6);
}

int main() {
  std::string dir = TempDir();
  std::printf("Portcullis foundation benchmarks\n");
  BenchCertificates(dir);
  BenchAudit(dir);
  BenchPolicy();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
