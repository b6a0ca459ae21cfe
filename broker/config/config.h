#pragma once
// The broker's configuration: one YAML file (see DefaultConfigYaml()).
// Unknown keys are errors; every error names the file, line and field.
// Relative paths are resolved against the config file's directory.
// Plain value type; thread-compatible.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace portcullis::config {

// HOST:PORT. port 0 = listener disabled.
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  bool enabled() const { return port != 0; }
  std::string ToString() const;  // "127.0.0.1:7443", "[::1]:7443"
};
[[nodiscard]] absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

struct BrokerConfig {
  std::string config_path;  // absolute path of the file this came from
  std::string data_dir;     // absolute
  ListenAddress grpc{"127.0.0.1", 7443};
  ListenAddress ssh{"0.0.0.0", 2222};
  ListenAddress vnc{"0.0.0.0", 5900};
  ListenAddress rdp{"0.0.0.0", 3389};
  std::vector<std::string> tls_server_names{"localhost"};

  std::chrono::seconds token_ttl{12 * 3600};
  int lockout_failures = 5;
  std::chrono::seconds lockout_window{15 * 60};
  // Failed logins from one address within lockout_window after which it
  // is refused (0: no limit).
  int lockout_failures_per_source = 100;
  uint32_t argon2_memory_kib = 19456;
  uint32_t argon2_iterations = 2;
  // Password verifications (each takes argon2_memory_kib) running at once;
  // 0 = twice the number of CPUs. Up to 16 times as many logins wait (at
  // most 2 s each); others are refused as busy.
  int max_concurrent_logins = 0;
  int MaxConcurrentLogins() const {
    if (max_concurrent_logins > 0) return max_concurrent_logins;
    const unsigned cpus = std::thread::hardware_concurrency();
    return cpus == 0 ? 2 : static_cast<int>(2 * cpus);
  }

  std::chrono::seconds ssh_cert_ttl{300};
  std::string ssh_source_address;  // critical option source-address; empty = none
  std::string issuer = "Portcullis";  // shown in authenticator apps
  // Lifetime of the login certificate `portcullis login` gets (principal =
  // the Portcullis user, signed by the login CA only the broker trusts).
  std::chrono::seconds login_cert_ttl{8 * 3600};

  // SSH listener limits.
  std::chrono::seconds ssh_auth_timeout{60};   // banner..authenticated
  int ssh_max_unauthenticated = 256;           // concurrent pre-auth connections
  int ssh_max_sessions = 4096;                 // concurrent connections
  std::chrono::seconds ssh_target_timeout{15}; // connect + handshake to a target
  int ssh_max_channels_per_connection = 10;    // session + tunnel channels at once

  std::string log_level = "info";

  // Recordings (the `recordings:` section).
  std::string recordings_dir;  // absolute; empty = <data_dir>/recordings
  // Recordings older than this are deleted (unless on legal hold); 0 = kept
  // forever.
  std::chrono::seconds recording_retention{365 * 86400};
  uint64_t recording_max_bytes = uint64_t{16} << 30;      // one recording
  uint64_t recording_min_free_bytes = uint64_t{64} << 20;  // new sessions refused below
  std::chrono::seconds recording_checkpoint_interval{4};   // 1s..5s
  // Not from the file: `portcullisd --benchmark-unrecorded` (make bench
  // only) discards recordings, to measure what recording costs.
  bool benchmark_unrecorded = false;

  // Paths inside the data directory.
  std::string DbPath() const { return data_dir + "/portcullis.db"; }
  std::string AuditAnchorPath() const { return data_dir + "/audit.anchor"; }
  std::string KeysDir() const { return data_dir + "/keys"; }
  std::string SecretsKeyPath() const { return KeysDir() + "/secrets.key"; }
  std::string SshUserCaKeyPath() const { return KeysDir() + "/ssh_user_ca"; }
  std::string SshLoginCaKeyPath() const { return KeysDir() + "/ssh_login_ca"; }
  std::string SshHostKeyPath() const { return KeysDir() + "/ssh_host_ed25519_key"; }
  std::string TlsDir() const { return data_dir + "/tls"; }
  std::string TlsCaCertPath() const { return TlsDir() + "/ca.pem"; }
  std::string TlsCaKeyPath() const { return TlsDir() + "/ca.key"; }
  std::string TlsServerCertPath() const { return TlsDir() + "/server.pem"; }
  std::string TlsServerKeyPath() const { return TlsDir() + "/server.key"; }
  // The API identity imported from the plant's PKI (`portcullisd tls
  // import`): key + certificate + chain, 0600. Served instead of
  // server.pem/server.key when present.
  std::string TlsImportedPath() const { return TlsDir() + "/imported.pem"; }
  std::string TlsImportedBackupPath() const { return TlsDir() + "/imported.pem.previous"; }
  std::string RecordingsDir() const {
    return recordings_dir.empty() ? data_dir + "/recordings" : recordings_dir;
  }
  // The Ed25519 key that seals recordings (PKCS#8 PEM, 0600).
  std::string RecordingKeyPath() const { return KeysDir() + "/recording_ed25519"; }
};

// Parses YAML text. `path` is used for messages and to resolve data_dir.
[[nodiscard]] absl::StatusOr<BrokerConfig> ParseConfig(std::string_view yaml, const std::string& path);
// "1048576", "512KiB", "64MiB", "16GiB", "1TiB" (also K, M, G, T and B):
// a byte count with an optional binary unit.
[[nodiscard]] absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);
// Reads and parses a config file (at most 1 MiB).
[[nodiscard]] absl::StatusOr<BrokerConfig> LoadConfig(const std::string& path);
// The commented default config written by `portcullisd init`.
std::string DefaultConfigYaml();

}  // namespace portcullis::config
