#pragma once
// Broker: the composition root of one portcullisd. Opens the data directory
// (SQLite store, secrets key, SSH user CA) and owns the shared services that
// the API and the protocol listeners use. Thread-safe: every member service
// is. Must outlive every listener, RPC and session.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "auth/identity/secret_box.h"
#include "broker/audit/audit_log.h"
#include "broker/common/clock.h"
#include "broker/config/config.h"
#include "broker/core/authenticator.h"
#include "broker/core/local_authority.h"
#include "broker/core/recording_catalogue.h"
#include "broker/core/role_table.h"
#include "broker/core/store_target_directory.h"
#include "broker/core/ticket_store.h"
#include "broker/core/token_manager.h"
#include "broker/session/admission.h"
#include "broker/session/recorder.h"
#include "broker/session/session_registry.h"
#include "broker/store/database.h"
#include "broker/store/key_repo.h"
#include "broker/store/meta_repo.h"
#include "broker/store/recording_repo.h"
#include "broker/store/role_repo.h"
#include "broker/store/target_repo.h"
#include "broker/store/token_repo.h"
#include "broker/store/user_repo.h"

namespace portcullis::core {

using session::SessionRegistry;

class Broker {
 public:
  // Fails with FailedPrecondition if the data directory was never
  // initialised (`portcullisd init`).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Broker>> Open(
      const config::BrokerConfig& cfg, const Clock* clock);

  const config::BrokerConfig& config() const { return cfg_; }
  const Clock* clock() const { return clock_; }
  store::Database* db() { return db_.get(); }
  store::UserRepo& users() { return users_; }
  store::RoleRepo& roles() { return roles_; }
  store::TargetRepo& targets() { return targets_; }
  store::TokenRepo& token_store() { return token_store_; }
  // SSH public keys users registered (`portcullis keys add`).
  store::KeyRepo& keys() { return keys_; }
  store::MetaRepo& meta() { return meta_; }
  audit::AuditLog& audit() { return *audit_; }
  const auth::SecretBox& secret_box() const { return box_; }
  RoleTable& role_table() { return role_table_; }
  Authenticator& authenticator() { return *authenticator_; }
  TokenManager& tokens() { return *tokens_; }
  Authority& authority() { return *authority_; }
  // The SSH listener's host key (created at init). Only the listener uses it.
  const ca::Ed25519Key& ssh_host_key() const { return *host_key_; }
  SessionRegistry& sessions() { return *sessions_; }
  // True iff `public_blob` is an SSH key registered for `user`
  // (`portcullis keys add`); false on a store error.
  bool HasSshKey(const std::string& user, const std::string& public_blob);
  // Recorders for sessions, writing under cfg.RecordingsDir(), sealed by
  // the authority's recording key and catalogued.
  session::RecorderFactory& recorders() { return *recorders_; }
  // The catalogue of recordings (rows, legal holds, retention).
  store::RecordingRepo& recording_store() { return recording_repo_; }
  RecordingCatalogue& recording_catalogue() { return *catalogue_; }
  // Seals recordings: the authority's recording key (keys/recording_ed25519).
  session::RecordingSigner& recording_signer() { return *authority_; }
  // The targets as protocol code sees them.
  session::TargetDirectory& target_directory() { return *target_directory_; }
  // The one admission step of every access path.
  session::Admitter& admitter() { return *admitter_; }
  // Connection tickets (in memory): the Access RPC issues them, the VNC
  // (and RDP) listeners redeem them through ticket_redeemer().
  TicketStore& tickets() { return *tickets_; }
  session::TicketRedeemer& ticket_redeemer() { return *tickets_; }

 private:
  Broker(config::BrokerConfig cfg, const Clock* clock, std::unique_ptr<store::Database> db,
         auth::SecretBox box);

  config::BrokerConfig cfg_;
  const Clock* clock_;
  std::unique_ptr<store::Database> db_;
  store::UserRepo users_;
  store::RoleRepo roles_;
  store::TargetRepo targets_;
  store::TokenRepo token_store_;
  store::KeyRepo keys_;
  store::MetaRepo meta_;
  store::RecordingRepo recording_repo_;
  std::unique_ptr<audit::AuditLog> audit_;
  auth::SecretBox box_;
  RoleTable role_table_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<TokenManager> tokens_;
  std::unique_ptr<Authority> authority_;
  std::unique_ptr<ca::Ed25519Key> host_key_;
  std::unique_ptr<SessionRegistry> sessions_;
  std::unique_ptr<RecordingCatalogue> catalogue_;  // outlives recorders_
  std::unique_ptr<session::RecorderFactory> recorders_;
  std::unique_ptr<StoreTargetDirectory> target_directory_;
  std::unique_ptr<session::Admitter> admitter_;
  std::unique_ptr<TicketStore> tickets_;
};

}  // namespace portcullis::core
