#include "broker/store/schema.h"

#include <array>

namespace portcullis::store {
namespace {

// Version 1: users, roles, targets, tokens, metadata and the audit log.
// Timestamps are unix seconds (UTC) except the audit log's RFC 3339 `time`,
// which is part of the hash chain (see broker/audit/audit_log.h).
constexpr std::string_view kV1 = R"sql(
CREATE TABLE users (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  name              TEXT    NOT NULL UNIQUE CHECK (length(name) > 0),
  password_hash     TEXT    NOT NULL DEFAULT '',
  totp_seed_sealed  BLOB    NOT NULL DEFAULT x'',
  totp_last_counter INTEGER NOT NULL DEFAULT -1,
  disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at        INTEGER NOT NULL
);

-- A user's role names, in the order they were given. Role definitions live
-- in `roles`; a user may name a role that is not (yet) defined.
CREATE TABLE user_roles (
  user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role     TEXT    NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (user_id, role)
);

-- Failed authentications by the name that was tried (existing or not).
CREATE TABLE auth_failures (
  id   INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT    NOT NULL,
  at   INTEGER NOT NULL
);
CREATE INDEX auth_failures_name_at ON auth_failures(name, at);

CREATE TABLE roles (
  name       TEXT    PRIMARY KEY CHECK (length(name) > 0),
  yaml       TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE targets (
  name                  TEXT    PRIMARY KEY CHECK (length(name) > 0),
  address               TEXT    NOT NULL,
  protocol              TEXT    NOT NULL CHECK (protocol IN ('ssh', 'rdp', 'vnc', 'tcp')),
  labels                TEXT    NOT NULL DEFAULT '{}',  -- JSON object of strings
  host_key              TEXT    NOT NULL DEFAULT '',
  crypto_profile        TEXT    NOT NULL DEFAULT 'modern',
  vaulted_secret_sealed BLOB    NOT NULL DEFAULT x'',
  created_at            INTEGER NOT NULL
);

-- Bearer tokens by SHA-256 (hex); the token itself is never stored.
CREATE TABLE tokens (
  token_hash TEXT    PRIMARY KEY,
  user       TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  kind       TEXT    NOT NULL DEFAULT 'cli'
);
CREATE INDEX tokens_user ON tokens(user);
CREATE INDEX tokens_expires_at ON tokens(expires_at);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
);

CREATE TABLE counters (
  key   TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
);

-- Append-only, hash-chained audit log (broker/audit/audit_log.h).
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  time      TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  actor     TEXT    NOT NULL,
  subject   TEXT    NOT NULL,
  outcome   TEXT    NOT NULL,
  source    TEXT    NOT NULL,
  details   TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_time ON audit_log(time);
CREATE INDEX audit_log_type ON audit_log(type);
CREATE INDEX audit_log_actor ON audit_log(actor);
-- These stop accidental code paths; someone with file access can drop them,
-- which is what the hash chain and its anchor file are for.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
)sql";

// Version 2: SSH public keys users registered for the SSH listener
// (`portcullis keys add`). `blob` is the SSH wire encoding; `fingerprint` is
// "SHA256:" + unpadded base64 of its SHA-256. A user's keys go with the user.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE user_keys (
  user        TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  fingerprint TEXT    NOT NULL CHECK (length(fingerprint) > 0),
  blob        BLOB    NOT NULL CHECK (length(blob) > 0),
  type        TEXT    NOT NULL,
  comment     TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (user, fingerprint)
);
)sql";

// Version 3: the catalogue of session recordings (store/recording_repo.h).
// `id` is "<session_id>.<channel>", the files' name; `path` is the .cast file
// relative to the recordings directory. Times are unix MICROseconds (UTC);
// ended_us is 0 while recording. A deleted recording (retention) keeps its
// row, with deleted_at (unix seconds) set, for the audit trail. Users are not
// referenced: recordings outlive their users.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE recordings (
  id         TEXT    PRIMARY KEY CHECK (length(id) > 0),
  session_id TEXT    NOT NULL,
  channel    INTEGER NOT NULL CHECK (channel >= 0),
  user       TEXT    NOT NULL,
  login      TEXT    NOT NULL DEFAULT '',
  target     TEXT    NOT NULL DEFAULT '',
  protocol   TEXT    NOT NULL,
  source     TEXT    NOT NULL DEFAULT '',
  command    TEXT    NOT NULL DEFAULT '',
  path       TEXT    NOT NULL CHECK (length(path) > 0),
  started_us INTEGER NOT NULL,
  ended_us   INTEGER NOT NULL DEFAULT 0,
  size       INTEGER NOT NULL DEFAULT 0,
  sha256     TEXT    NOT NULL DEFAULT '',
  state      TEXT    NOT NULL DEFAULT 'recording'
                     CHECK (state IN ('recording', 'complete', 'truncated', 'failed')),
  end_reason TEXT    NOT NULL DEFAULT '',
  failure    TEXT    NOT NULL DEFAULT '',
  legal_hold INTEGER NOT NULL DEFAULT 0 CHECK (legal_hold IN (0, 1)),
  deleted_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recordings_started ON recordings(started_us);
CREATE INDEX recordings_user ON recordings(user, started_us);
CREATE INDEX recordings_target ON recordings(target, started_us);
CREATE INDEX recordings_state ON recordings(state);
)sql";

// Version 4: (a) lockout counters replace the per-failure rows: one row per
// name tried (existing or not), `failures` counted attempts, `last_at` the
// unix second of the last one; a lapse of the lockout window without a
// counted attempt restarts the count (user_repo.h). Existing failures carry
// over. (b) A user's login generation: login certificates and tokens carry
// the user id and generation they were issued for, and stop working when
// the user is deleted (a new user never reuses an id: AUTOINCREMENT),
// disabled or reset (generation + 1). Existing tokens are bound to their
// user's current row.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE auth_attempts (
  name     TEXT    PRIMARY KEY CHECK (length(name) > 0),
  failures INTEGER NOT NULL CHECK (failures >= 0),
  last_at  INTEGER NOT NULL
);
INSERT INTO auth_attempts(name, failures, last_at)
  SELECT name, COUNT(*), MAX(at) FROM auth_failures GROUP BY name;
DROP TABLE auth_failures;

ALTER TABLE users ADD COLUMN login_generation INTEGER NOT NULL DEFAULT 1
  CHECK (login_generation >= 1);
ALTER TABLE tokens ADD COLUMN user_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN user_generation INTEGER NOT NULL DEFAULT 0;
UPDATE tokens SET
  user_id = COALESCE((SELECT id FROM users WHERE users.name = tokens.user), 0),
  user_generation = 1;
)sql";

// Version 5: the credential vault for targets that cannot take certificates.
// `targets.auth` says how the broker logs in to a target: with a certificate
// from its CA (the default), or with a secret vaulted per target and login
// (`password` or private `key`). `sealed` is the SecretBox form of the
// secret, bound to its target and login (core/target_vault.h); `domain` is
// for RDP, `login` is '' for a VNC password. set_at is unix seconds, set_by
// the admin who set it. A target's secrets go with the target. The unused
// `targets.vaulted_secret_sealed` column stays (old migration) but nothing
// reads it.
constexpr std::string_view kV5 = R"sql(
ALTER TABLE targets ADD COLUMN auth TEXT NOT NULL DEFAULT 'certificate'
  CHECK (auth IN ('certificate', 'password', 'key'));
CREATE TABLE target_secrets (
  target TEXT    NOT NULL REFERENCES targets(name) ON DELETE CASCADE,
  login  TEXT    NOT NULL,
  kind   TEXT    NOT NULL CHECK (kind IN ('password', 'key')),
  sealed BLOB    NOT NULL CHECK (length(sealed) > 0),
  domain TEXT    NOT NULL DEFAULT '',
  set_at INTEGER NOT NULL,
  set_by TEXT    NOT NULL,
  PRIMARY KEY (target, login)
);
)sql";

// Version 6: `targets.auth` may be 'none' (a VNC target that asks for no
// authentication). The column is rebuilt with the wider CHECK (a column
// CHECK goes with its column); values carry over.
constexpr std::string_view kV6 = R"sql(
ALTER TABLE targets ADD COLUMN auth_v6 TEXT NOT NULL DEFAULT 'certificate'
  CHECK (auth_v6 IN ('certificate', 'password', 'key', 'none'));
UPDATE targets SET auth_v6 = auth;
ALTER TABLE targets DROP COLUMN auth;
ALTER TABLE targets RENAME COLUMN auth_v6 TO auth;
)sql";

// Version 7: a VNC target's crypto profile says how the broker reaches it:
// 'modern' over VeNCrypt with its X.509 certificate pinned, 'legacy' in
// the clear (VncAuth or None). Every VNC target before version 7 was
// reached in the clear, so it becomes 'legacy', and so does any pin it
// might hold (none: version 6 pinned no VNC certificate).
constexpr std::string_view kV7 = R"sql(
UPDATE targets SET crypto_profile = 'legacy' WHERE protocol = 'vnc';
)sql";

constexpr std::array<Migration, 7> kMigrations = {{
    {1, "initial schema: users, roles, targets, tokens, meta, audit log", kV1},
    {2, "user_keys: registered SSH public keys", kV2},
    {3, "recordings: the catalogue of session recordings", kV3},
    {4, "auth_attempts lockout counters; login generations on users and tokens", kV4},
    {5, "targets.auth and target_secrets: the credential vault", kV5},
    {6, "targets.auth may be none (VNC without authentication)", kV6},
    {7, "VNC targets before VeNCrypt are legacy (reached in the clear)", kV7},
}};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations.back().version; }

}  // namespace portcullis::store
