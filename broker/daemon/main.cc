// portcullisd: the Portcullis broker daemon.
//   portcullisd init --config FILE --admin NAME [--password-stdin]
//   portcullisd tls import --config FILE --cert F --key F [--chain F]
//   portcullisd --config FILE
#include <signal.h>
#include <sys/resource.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "agentless/ssh/ssh_listener.h"
#include "agentless/vnc/vnc_listener.h"
#include "broker/api/server.h"
#include "broker/common/terminal.h"
#include "broker/config/config.h"
#include "broker/core/broker.h"
#include "broker/daemon/init_command.h"
#include "broker/daemon/maintenance.h"
#include "broker/daemon/tls_command.h"

namespace {

using portcullis::SecretBytes;

int Fail(const absl::Status& st) {
  std::cerr << "portcullisd: " << st.message() << "\n";
  return 1;
}

// The SSH access path's narrow view of the broker: its settings and host
// key, the authenticator and the Authority, and the session services.
portcullis::ssh::SshServices SshServicesOf(portcullis::core::Broker* b) {
  const auto& cfg = b->config();
  portcullis::ssh::SshServices s;
  s.settings.host = cfg.ssh.host;
  s.settings.port = cfg.ssh.port;
  s.settings.auth_timeout = cfg.ssh_auth_timeout;
  s.settings.max_unauthenticated = cfg.ssh_max_unauthenticated;
  s.settings.max_sessions = cfg.ssh_max_sessions;
  s.settings.target_timeout = cfg.ssh_target_timeout;
  s.settings.max_channels_per_connection = cfg.ssh_max_channels_per_connection;
  s.host_key = &b->ssh_host_key();
  s.auth.authenticator = &b->authenticator();
  s.auth.authority = &b->authority();
  s.auth.has_key = [b](const std::string& user, const std::string& blob) {
    return b->HasSshKey(user, blob);
  };
  s.session.admitter = &b->admitter();
  s.session.sessions = &b->sessions();
  s.session.recorders = &b->recorders();
  s.session.audit = &b->audit();
  s.session.clock = b->clock();
  return s;
}

// The VNC access path's view of the broker: its listen address, the ticket
// redeemer, and the session services.
portcullis::vnc::VncServices VncServicesOf(portcullis::core::Broker* b) {
  const auto& cfg = b->config();
  portcullis::vnc::VncServices s;
  s.settings.host = cfg.vnc.host;
  s.settings.port = cfg.vnc.port;
  s.settings.target_timeout = cfg.ssh_target_timeout;
  s.tickets = &b->ticket_redeemer();
  s.session.admitter = &b->admitter();
  s.session.sessions = &b->sessions();
  s.session.recorders = &b->recorders();
  s.session.audit = &b->audit();
  s.session.clock = b->clock();
  return s;
}

int RunDaemon(const std::string& config_path, bool benchmark_unrecorded) {
  auto cfg = portcullis::config::LoadConfig(config_path);
  if (!cfg.ok()) return Fail(cfg.status());
  cfg->benchmark_unrecorded = benchmark_unrecorded;
  spdlog::set_default_logger(spdlog::stderr_color_mt("portcullisd"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));

  // Each SSH session holds two sockets and an eventfd: raise the soft
  // descriptor limit to the hard one.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  // Signals are taken synchronously by the main thread only.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto broker = portcullis::core::Broker::Open(*cfg, portcullis::SystemClock::Get());
  if (!broker.ok()) return Fail(broker.status());
  portcullis::api::ApiServer api(**broker);
  if (auto st = api.Start(); !st.ok()) return Fail(st);
  portcullis::audit::AuditEvent start;
  start.type = "broker.start";
  start.actor = "system";
  start.subject = cfg->config_path;
  start.outcome = "success";
  start.details = {{"api", cfg->grpc.host + ":" + std::to_string(api.port())}};
  if (cfg->benchmark_unrecorded) start.details["recordings"] = "discarded (--benchmark-unrecorded)";
  if (auto st = (*broker)->audit().Append(start); !st.ok()) {
    api.Shutdown();
    return Fail(st.status());  // no audit, no service
  }
  portcullis::daemon::Maintenance maintenance(**broker);
  (*broker)->sessions().StartWatchdog();
  std::unique_ptr<portcullis::ssh::SshListener> ssh;
  if (cfg->ssh.enabled()) {
    ssh = std::make_unique<portcullis::ssh::SshListener>(SshServicesOf(broker->get()));
    if (auto st = ssh->Start(); !st.ok()) {
      api.Shutdown();
      return Fail(st);
    }
  }
  // The VNC listener (listen.vnc) redeems the tickets `portcullis access`
  // issues, then admits through the same Admitter.
  std::unique_ptr<portcullis::vnc::VncListener> vnc;
  if (cfg->vnc.enabled()) {
    vnc = std::make_unique<portcullis::vnc::VncListener>(VncServicesOf(broker->get()));
    if (auto st = vnc->Start(); !st.ok()) {
      if (ssh) ssh->Stop();
      api.Shutdown();
      return Fail(st);
    }
  }
  spdlog::info("portcullisd ready: api={}:{} ssh={} vnc={} data_dir={}", cfg->grpc.host, api.port(),
               cfg->ssh.enabled() ? cfg->ssh.ToString() : "off",
               cfg->vnc.enabled() ? cfg->vnc.ToString() : "off", cfg->data_dir);

  int sig = 0;
  for (;;) {
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
    spdlog::warn("portcullisd: SIGHUP ignored (no live reload; restart to apply config changes)");
  }
  spdlog::info("portcullisd: signal {}, shutting down", sig);
  if (vnc) vnc->Stop();
  if (ssh) ssh->Stop();
  maintenance.Stop();
  api.Shutdown();
  api.Wait();
  portcullis::audit::AuditEvent stop = start;
  stop.type = "broker.stop";
  (void)(*broker)->audit().Append(stop);
  spdlog::info("portcullisd: stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"portcullisd - the Portcullis privileged access broker"};
  app.set_version_flag("--version", "portcullisd 0.1.0");
  std::string config_path;
  app.add_option("--config", config_path, "Broker configuration file (YAML)");
  bool benchmark_unrecorded = false;
  // Hidden (no group): for `make bench` only; audited at start.
  app.add_flag("--benchmark-unrecorded", benchmark_unrecorded,
               "Discard recordings (benchmarks only)")
      ->group("");

  auto* init = app.add_subcommand("init", "Create the config (if missing) and data directory");
  std::string init_config, admin;
  bool password_stdin = false;
  init->add_option("--config", init_config, "Configuration file to create or use")->required();
  init->add_option("--admin", admin, "Name of the first administrator")->required();
  init->add_flag("--password-stdin", password_stdin, "Read the admin password from stdin");

  auto* tls = app.add_subcommand("tls", "The API's TLS certificate");
  tls->require_subcommand(1);
  auto* tls_import = tls->add_subcommand(
      "import", "Serve a certificate from your PKI on the API (validated first; from the next start)");
  portcullis::daemon::TlsImportOptions import_opts;
  tls_import->add_option("--config", import_opts.config_path, "Broker configuration file")
      ->required();
  tls_import->add_option("--cert", import_opts.cert_path, "Server certificate (PEM)")->required();
  tls_import->add_option("--key", import_opts.key_path, "Its private key (PEM, unencrypted)")
      ->required();
  tls_import->add_option("--chain", import_opts.chain_path,
                         "Intermediate CA certificates (PEM), optionally with the root");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (init->parsed()) {
    auto password = portcullis::ReadNewSecret(password_stdin);
    if (!password.ok()) return Fail(password.status());
    auto st = portcullis::daemon::RunInit({init_config, admin}, *password,
                                          portcullis::SystemClock::Get(), std::cout);
    if (!st.ok()) return Fail(st);
    return 0;
  }
  if (tls_import->parsed()) {
    auto st = portcullis::daemon::RunTlsImport(import_opts, portcullis::SystemClock::Get(),
                                               std::cout);
    if (!st.ok()) return Fail(st);
    return 0;
  }
  if (config_path.empty()) {
    std::cerr << "portcullisd: --config FILE is required (or `portcullisd init ...`)\n";
    return 2;
  }
  return RunDaemon(config_path, benchmark_unrecorded);
}
