#include "broker/core/broker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/ca/ed25519_key.h"
#include "broker/common/absl_fmt.h"
#include "broker/common/files.h"
#include "broker/common/vnc_des.h"
#include "recorder/asciicast_factory.h"
#include "recorder/discarding_factory.h"

namespace portcullis::core {

Broker::Broker(config::BrokerConfig cfg, const Clock* clock, std::unique_ptr<store::Database> db,
               auth::SecretBox box)
    : cfg_(std::move(cfg)),
      clock_(clock),
      db_(std::move(db)),
      users_(db_.get()),
      roles_(db_.get()),
      targets_(db_.get()),
      token_store_(db_.get()),
      keys_(db_.get()),
      meta_(db_.get()),
      recording_repo_(db_.get()),
      box_(std::move(box)),
      role_table_(&roles_) {
  audit_ = std::make_unique<audit::AuditLog>(db_.get(), clock_, cfg_.AuditAnchorPath());
  authenticator_ = std::make_unique<Authenticator>(
      &users_, audit_.get(), &box_, clock_,
      LockoutPolicy{cfg_.lockout_failures, cfg_.lockout_window, cfg_.lockout_failures_per_source},
      auth::Argon2Params{cfg_.argon2_iterations, cfg_.argon2_memory_kib, 1},
      cfg_.MaxConcurrentLogins());
  tokens_ = std::make_unique<TokenManager>(&token_store_, &users_, clock_, cfg_.token_ttl);
  sessions_ = std::make_unique<SessionRegistry>(clock_);
  catalogue_ = std::make_unique<RecordingCatalogue>(&recording_repo_, audit_.get(), clock_,
                                                    cfg_.RecordingsDir(), cfg_.recording_retention);
}

absl::StatusOr<std::unique_ptr<Broker>> Broker::Open(const config::BrokerConfig& cfg,
                                                     const Clock* clock) {
  if (!PathExists(cfg.DbPath())) {
    return absl::FailedPreconditionError(fmt::format(
        "data directory {} is not initialised: run `portcullisd init --config {} --admin NAME`",
        cfg.data_dir, cfg.config_path));
  }
  auto box = auth::SecretBox::LoadKeyFile(cfg.SecretsKeyPath());
  if (!box.ok()) return box.status();
  auto ca_key = ca::Ed25519Key::LoadPrivateFile(cfg.SshUserCaKeyPath());
  if (!ca_key.ok()) return ca_key.status();
  // Keys added after the first release are created on first open, so a data
  // directory from an older init keeps working.
  for (const std::string& path :
       {cfg.SshLoginCaKeyPath(), cfg.SshHostKeyPath(), cfg.RecordingKeyPath()}) {
    if (!PathExists(path)) {
      if (auto st = ca::Ed25519Key::Generate().SavePrivateFile(path); !st.ok()) return st;
    }
  }
  auto login_ca = ca::Ed25519Key::LoadPrivateFile(cfg.SshLoginCaKeyPath());
  if (!login_ca.ok()) return login_ca.status();
  auto host_key = ca::Ed25519Key::LoadPrivateFile(cfg.SshHostKeyPath());
  if (!host_key.ok()) return host_key.status();
  auto recording_key = ca::Ed25519Key::LoadPrivateFile(cfg.RecordingKeyPath());
  if (!recording_key.ok()) return recording_key.status();
  auto db = store::Database::Open(cfg.DbPath(), clock);
  if (!db.ok()) return db.status();

  std::unique_ptr<Broker> b(new Broker(cfg, clock, std::move(*db), std::move(*box)));
  ca::CaOptions opts;
  opts.default_ttl = cfg.ssh_cert_ttl;
  opts.source_address = cfg.ssh_source_address;
  store::MetaRepo* meta = &b->meta_;
  auto ssh_ca = std::make_unique<ca::SshCertificateAuthority>(
      std::move(*ca_key), clock, opts, [meta]() -> uint64_t {
        auto n = meta->NextCounter("ssh_cert_serial");
        // A serial we cannot persist is never reused: abort the process
        // rather than mint a duplicate (broken invariant of the store).
        if (!n.ok()) std::abort();
        return *n;
      });
  b->authority_ = std::make_unique<LocalAuthority>(
      std::move(ssh_ca), std::move(*login_ca), std::move(*recording_key), &b->role_table_, clock,
      [meta]() -> uint64_t {
        auto n = meta->NextCounter("ssh_login_cert_serial");
        if (!n.ok()) std::abort();
        return *n;
      },
      &b->targets_, &b->box_);
  b->host_key_ = std::make_unique<ca::Ed25519Key>(std::move(*host_key));
  // Rows a stopped broker left "recording" are truncated recordings; this
  // runs before any new recording starts.
  if (auto n = b->catalogue_->RecoverInterrupted(); !n.ok()) return n.status();
  if (cfg.benchmark_unrecorded) {
    spdlog::warn("portcullisd: --benchmark-unrecorded: sessions are NOT recorded (benchmarks only)");
    b->recorders_ = std::make_unique<recorder::DiscardingFactory>();
  } else {
    recorder::AsciicastFactoryOptions rec;
    rec.dir = cfg.RecordingsDir();
    rec.min_free_bytes = cfg.recording_min_free_bytes;
    rec.max_recording_bytes = cfg.recording_max_bytes;
    rec.checkpoint_interval = cfg.recording_checkpoint_interval;
    rec.signer = b->authority_.get();
    rec.observer = b->catalogue_.get();
    b->recorders_ = std::make_unique<recorder::AsciicastFactory>(std::move(rec), clock);
  }
  b->target_directory_ = std::make_unique<StoreTargetDirectory>(&b->targets_);
  session::AdmissionServices adm;
  adm.targets = b->target_directory_.get();
  adm.authority = b->authority_.get();
  adm.audit = b->audit_.get();
  adm.recorders = b->recorders_.get();
  adm.clock = clock;
  b->admitter_ = std::make_unique<session::Admitter>(adm);
  b->tickets_ = std::make_unique<TicketStore>(b->audit_.get(), clock);
  if (auto st = VncDesAvailable(); !st.ok())
    spdlog::warn("portcullisd: {}; VNC tickets cannot be issued", st.message());
  return b;
}

bool Broker::HasSshKey(const std::string& user, const std::string& public_blob) {
  auto has = keys_.HasKey(user, public_blob);
  if (!has.ok()) {
    // Fail closed: a store error refuses the key (the client can still use
    // password + code).
    spdlog::error("ssh: looking up a registered key for {} failed: {}", user,
                  has.status().message());
    return false;
  }
  return *has;
}

}  // namespace portcullis::core
