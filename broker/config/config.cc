#include "broker/config/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "broker/common/files.h"
#include "broker/common/time_format.h"
#include "broker/common/yaml_load.h"

namespace portcullis::config {
namespace {

constexpr size_t kMaxConfigSize = 1 << 20;

// Builds "file:line: field: message".
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}
  absl::Status At(const YAML::Node& node, std::string_view field, std::string_view msg) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return absl::InvalidArgumentError(fmt::format("{}:{}: {}: {}", file_, line, field, msg));
  }

 private:
  std::string file_;
};

absl::Status CheckKeys(const ErrorSink& err, const YAML::Node& map, std::string_view prefix,
                       const std::set<std::string>& allowed) {
  if (!map.IsMap()) return err.At(map, prefix.empty() ? "(top level)" : prefix, "expected a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string key = it->first.Scalar();
    if (!allowed.count(key)) {
      std::string expected;
      for (const auto& a : allowed) expected += (expected.empty() ? "" : ", ") + a;
      std::string field = prefix.empty() ? key : fmt::format("{}.{}", prefix, key);
      return err.At(it->first, field, fmt::format("unknown field (expected one of: {})", expected));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Scalar(const ErrorSink& err, const YAML::Node& n, std::string_view field) {
  if (!n.IsScalar()) return err.At(n, field, "expected a single value");
  return n.Scalar();
}

absl::Status ReadDuration(const ErrorSink& err, const YAML::Node& n, std::string_view field,
                          std::chrono::seconds* out) {
  auto s = Scalar(err, n, field);
  if (!s.ok()) return s.status();
  auto d = ParseDuration(*s);
  if (!d.ok()) return err.At(n, field, std::string(d.status().message()));
  *out = *d;
  return absl::OkStatus();
}

absl::Status ReadInt(const ErrorSink& err, const YAML::Node& n, std::string_view field, int64_t lo,
                     int64_t hi, int64_t* out) {
  auto s = Scalar(err, n, field);
  if (!s.ok()) return s.status();
  try {
    size_t used = 0;
    long long v = std::stoll(*s, &used);
    if (used != s->size() || v < lo || v > hi) throw std::out_of_range("range");
    *out = v;
  } catch (const std::exception&) {
    return err.At(n, field, fmt::format("expected an integer from {} to {}", lo, hi));
  }
  return absl::OkStatus();
}

absl::Status ReadListen(const ErrorSink& err, const YAML::Node& n, std::string_view field,
                        ListenAddress* out) {
  auto s = Scalar(err, n, field);
  if (!s.ok()) return s.status();
  auto a = ParseListenAddress(*s);
  if (!a.ok()) return err.At(n, field, std::string(a.status().message()));
  *out = *a;
  return absl::OkStatus();
}

absl::Status ReadByteSize(const ErrorSink& err, const YAML::Node& n, std::string_view field,
                          uint64_t lo, uint64_t hi, std::string_view range, uint64_t* out) {
  auto s = Scalar(err, n, field);
  if (!s.ok()) return s.status();
  auto v = ParseByteSize(*s);
  if (!v.ok()) return err.At(n, field, std::string(v.status().message()));
  if (*v < lo || *v > hi) return err.At(n, field, fmt::format("must be {}", range));
  *out = *v;
  return absl::OkStatus();
}

absl::Status ParseRecordings(const YAML::Node& r, const ErrorSink& err,
                             const std::filesystem::path& base, BrokerConfig* cfg) {
  if (auto st = CheckKeys(err, r, "recordings",
                          {"dir", "retention", "max_size", "min_free", "checkpoint_interval"});
      !st.ok())
    return st;
  if (auto n = r["dir"]) {
    auto s = Scalar(err, n, "recordings.dir");
    if (!s.ok()) return s.status();
    if (s->empty()) return err.At(n, "recordings.dir", "must not be empty");
    std::filesystem::path p(*s);
    cfg->recordings_dir = (p.is_absolute() ? p : base / p).lexically_normal().string();
  }
  if (auto n = r["retention"]) {
    auto s = Scalar(err, n, "recordings.retention");
    if (!s.ok()) return s.status();
    if (*s == "0") {
      cfg->recording_retention = std::chrono::seconds(0);
    } else {
      if (auto st = ReadDuration(err, n, "recordings.retention", &cfg->recording_retention);
          !st.ok())
        return st;
      if (cfg->recording_retention < std::chrono::hours(24))
        return err.At(n, "recordings.retention", "at least 1d (or 0 to keep recordings forever)");
    }
  }
  if (auto n = r["max_size"]) {
    if (auto st = ReadByteSize(err, n, "recordings.max_size", uint64_t{1} << 20,
                               uint64_t{16} << 30, "from 1MiB to 16GiB", &cfg->recording_max_bytes);
        !st.ok())
      return st;
  }
  if (auto n = r["min_free"]) {
    if (auto st = ReadByteSize(err, n, "recordings.min_free", 0, uint64_t{1} << 40,
                               "at most 1TiB", &cfg->recording_min_free_bytes);
        !st.ok())
      return st;
  }
  if (auto n = r["checkpoint_interval"]) {
    if (auto st = ReadDuration(err, n, "recordings.checkpoint_interval",
                               &cfg->recording_checkpoint_interval);
        !st.ok())
      return st;
    if (cfg->recording_checkpoint_interval > std::chrono::seconds(5))
      return err.At(n, "recordings.checkpoint_interval", "at most 5s");
  }
  return absl::OkStatus();
}

absl::StatusOr<BrokerConfig> ParseNode(const YAML::Node& root, const ErrorSink& err,
                                       const std::string& path) {
  BrokerConfig cfg;
  std::filesystem::path abs = std::filesystem::absolute(path).lexically_normal();
  cfg.config_path = abs.string();
  std::filesystem::path base = abs.parent_path();
  cfg.data_dir = (base / "data").string();
  if (root.IsNull()) return cfg;
  if (auto st = CheckKeys(err, root, "", {"data_dir", "listen", "tls", "auth", "ssh_ca", "ssh", "recordings", "log"});
      !st.ok()) {
    return st;
  }
  if (auto n = root["data_dir"]) {
    auto s = Scalar(err, n, "data_dir");
    if (!s.ok()) return s.status();
    if (s->empty()) return err.At(n, "data_dir", "must not be empty");
    std::filesystem::path p(*s);
    cfg.data_dir = (p.is_absolute() ? p : base / p).lexically_normal().string();
  }
  if (auto l = root["listen"]) {
    if (auto st = CheckKeys(err, l, "listen", {"grpc", "ssh", "vnc", "rdp"}); !st.ok()) return st;
    if (l["grpc"]) {
      if (auto st = ReadListen(err, l["grpc"], "listen.grpc", &cfg.grpc); !st.ok()) return st;
      if (!cfg.grpc.enabled()) {
        return err.At(l["grpc"], "listen.grpc",
                      "the API cannot be disabled (the CLI needs it); give a port 1-65535");
      }
    }
    if (l["ssh"]) {
      if (auto st = ReadListen(err, l["ssh"], "listen.ssh", &cfg.ssh); !st.ok()) return st;
    }
    if (l["vnc"]) {
      if (auto st = ReadListen(err, l["vnc"], "listen.vnc", &cfg.vnc); !st.ok()) return st;
    }
    if (l["rdp"]) {
      if (auto st = ReadListen(err, l["rdp"], "listen.rdp", &cfg.rdp); !st.ok()) return st;
    }
  }
  if (auto t = root["tls"]) {
    if (auto st = CheckKeys(err, t, "tls", {"server_names"}); !st.ok()) return st;
    if (auto names = t["server_names"]) {
      if (!names.IsSequence()) return err.At(names, "tls.server_names", "expected a list");
      cfg.tls_server_names.clear();
      for (const auto& n : names) {
        auto s = Scalar(err, n, "tls.server_names");
        if (!s.ok()) return s.status();
        if (s->empty() || s->size() > 253) return err.At(n, "tls.server_names", "bad name");
        cfg.tls_server_names.push_back(*s);
      }
    }
  }
  if (auto a = root["auth"]) {
    if (auto st = CheckKeys(err, a,
                            "auth", {"token_ttl", "lockout_failures", "lockout_failures_per_source", "lockout_window",
                                     "argon2_memory_kib", "argon2_iterations", "issuer",
                                     "max_concurrent_logins"});
        !st.ok()) {
      return st;
    }
    if (a["token_ttl"]) {
      if (auto st = ReadDuration(err, a["token_ttl"], "auth.token_ttl", &cfg.token_ttl); !st.ok())
        return st;
      if (cfg.token_ttl > std::chrono::hours(24 * 7))
        return err.At(a["token_ttl"], "auth.token_ttl", "at most 7d");
    }
    if (a["lockout_window"]) {
      if (auto st = ReadDuration(err, a["lockout_window"], "auth.lockout_window",
                                 &cfg.lockout_window);
          !st.ok())
        return st;
    }
    int64_t v;
    if (a["lockout_failures"]) {
      if (auto st = ReadInt(err, a["lockout_failures"], "auth.lockout_failures", 1, 1000, &v);
          !st.ok())
        return st;
      cfg.lockout_failures = static_cast<int>(v);
    }
    if (a["lockout_failures_per_source"]) {
      if (auto st = ReadInt(err, a["lockout_failures_per_source"], "auth.lockout_failures_per_source",
                            0, 100000, &v);
          !st.ok())
        return st;
      cfg.lockout_failures_per_source = static_cast<int>(v);
    }
    if (a["argon2_memory_kib"]) {
      if (auto st = ReadInt(err, a["argon2_memory_kib"], "auth.argon2_memory_kib", 8192,
                            1 << 20, &v);
          !st.ok())
        return st;
      cfg.argon2_memory_kib = static_cast<uint32_t>(v);
    }
    if (a["argon2_iterations"]) {
      if (auto st = ReadInt(err, a["argon2_iterations"], "auth.argon2_iterations", 1, 10, &v);
          !st.ok())
        return st;
      cfg.argon2_iterations = static_cast<uint32_t>(v);
    }
    if (a["max_concurrent_logins"]) {
      if (auto st = ReadInt(err, a["max_concurrent_logins"], "auth.max_concurrent_logins", 0, 1024,
                            &v);
          !st.ok())
        return st;
      cfg.max_concurrent_logins = static_cast<int>(v);
    }
    if (a["issuer"]) {
      auto s = Scalar(err, a["issuer"], "auth.issuer");
      if (!s.ok()) return s.status();
      if (s->empty() || s->size() > 64 || s->find(':') != std::string::npos)
        return err.At(a["issuer"], "auth.issuer", "1-64 characters, no ':'");
      cfg.issuer = *s;
    }
  }
  if (auto c = root["ssh_ca"]) {
    if (auto st = CheckKeys(err, c, "ssh_ca", {"cert_ttl", "source_address"}); !st.ok()) return st;
    if (c["cert_ttl"]) {
      if (auto st = ReadDuration(err, c["cert_ttl"], "ssh_ca.cert_ttl", &cfg.ssh_cert_ttl);
          !st.ok())
        return st;
      if (cfg.ssh_cert_ttl > std::chrono::minutes(10))
        return err.At(c["cert_ttl"], "ssh_ca.cert_ttl", "at most 10m");
    }
    if (c["source_address"]) {
      auto s = Scalar(err, c["source_address"], "ssh_ca.source_address");
      if (!s.ok()) return s.status();
      for (char ch : *s) {
        if (!(isxdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':' || ch == '/' ||
              ch == ',')) {
          return err.At(c["source_address"], "ssh_ca.source_address",
                        "expected IP addresses or CIDR blocks, comma separated");
        }
      }
      cfg.ssh_source_address = *s;
    }
  }
  if (auto c = root["ssh"]) {
    if (auto st = CheckKeys(err, c, "ssh",
                            {"login_cert_ttl", "auth_timeout", "max_unauthenticated",
                             "max_sessions", "target_timeout", "max_channels_per_connection"});
        !st.ok())
      return st;
    if (c["login_cert_ttl"]) {
      if (auto st = ReadDuration(err, c["login_cert_ttl"], "ssh.login_cert_ttl",
                                 &cfg.login_cert_ttl);
          !st.ok())
        return st;
      if (cfg.login_cert_ttl > std::chrono::hours(24))
        return err.At(c["login_cert_ttl"], "ssh.login_cert_ttl", "at most 24h");
    }
    if (c["auth_timeout"]) {
      if (auto st = ReadDuration(err, c["auth_timeout"], "ssh.auth_timeout", &cfg.ssh_auth_timeout);
          !st.ok())
        return st;
      if (cfg.ssh_auth_timeout > std::chrono::minutes(10))
        return err.At(c["auth_timeout"], "ssh.auth_timeout", "at most 10m");
    }
    if (c["target_timeout"]) {
      if (auto st = ReadDuration(err, c["target_timeout"], "ssh.target_timeout",
                                 &cfg.ssh_target_timeout);
          !st.ok())
        return st;
      if (cfg.ssh_target_timeout > std::chrono::minutes(2))
        return err.At(c["target_timeout"], "ssh.target_timeout", "at most 2m");
    }
    int64_t v;
    if (c["max_unauthenticated"]) {
      if (auto st = ReadInt(err, c["max_unauthenticated"], "ssh.max_unauthenticated", 1, 100000, &v);
          !st.ok())
        return st;
      cfg.ssh_max_unauthenticated = static_cast<int>(v);
    }
    if (c["max_sessions"]) {
      if (auto st = ReadInt(err, c["max_sessions"], "ssh.max_sessions", 1, 100000, &v); !st.ok())
        return st;
      cfg.ssh_max_sessions = static_cast<int>(v);
    }
    if (c["max_channels_per_connection"]) {
      if (auto st = ReadInt(err, c["max_channels_per_connection"],
                            "ssh.max_channels_per_connection", 1, 256, &v);
          !st.ok())
        return st;
      cfg.ssh_max_channels_per_connection = static_cast<int>(v);
    }
  }
  if (auto r = root["recordings"]) {
    if (auto st = ParseRecordings(r, err, base, &cfg); !st.ok()) return st;
  }
  if (auto l = root["log"]) {
    if (auto st = CheckKeys(err, l, "log", {"level"}); !st.ok()) return st;
    if (l["level"]) {
      auto s = Scalar(err, l["level"], "log.level");
      if (!s.ok()) return s.status();
      static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
      if (!kLevels.count(*s))
        return err.At(l["level"], "log.level", "expected trace, debug, info, warn or error");
      cfg.log_level = *s;
    }
  }
  return cfg;
}

}  // namespace

std::string ListenAddress::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress out;
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return absl::InvalidArgumentError(fmt::format("bad address '{}': want [V6]:PORT", text));
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return absl::InvalidArgumentError(fmt::format("bad address '{}': want HOST:PORT", text));
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || host.size() > 253)
    return absl::InvalidArgumentError(fmt::format("bad address '{}': empty host", text));
  for (char c : host) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
      return absl::InvalidArgumentError(fmt::format("bad address '{}': bad host", text));
  }
  if (port.empty() || port.size() > 5)
    return absl::InvalidArgumentError(fmt::format("bad address '{}': bad port", text));
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return absl::InvalidArgumentError(fmt::format("bad address '{}': bad port", text));
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535) return absl::InvalidArgumentError(fmt::format("bad address '{}': port > 65535", text));
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(p);
  return out;
}

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        fmt::format("bad size '{}': want bytes or e.g. 512KiB, 64MiB, 16GiB", text));
  };
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (uint64_t{1} << 50)) return bad();
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return bad();
  static const std::map<std::string_view, int> kShift = {
      {"", 0},   {"B", 0},    {"K", 10},   {"KiB", 10}, {"M", 20},
      {"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40},   {"TiB", 40}};
  auto it = kShift.find(text.substr(i));
  if (it == kShift.end()) return bad();
  if (n > (uint64_t{1} << (60 - it->second))) return bad();  // far beyond any limit
  return n << it->second;
}

absl::StatusOr<BrokerConfig> ParseConfig(std::string_view yaml, const std::string& path) {
  if (yaml.size() > kMaxConfigSize)
    return absl::InvalidArgumentError(fmt::format("{}: larger than 1 MiB", path));
  ErrorSink err(path);
  std::vector<YAML::Node> docs;
  YamlLoadError load_error;
  if (!LoadAllYaml(std::string(yaml), &docs, &load_error)) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: {}", path, load_error.line, load_error.message));
  }
  if (docs.size() > 1) {
    return absl::InvalidArgumentError(fmt::format("{}: expected one YAML document", path));
  }
  try {
    YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
    if (!root.IsNull() && !root.IsMap()) return err.At(root, "(top level)", "expected a mapping");
    return ParseNode(root, err, path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}:{}: malformed YAML: {}", path, e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, e.what()));
  }
}

absl::StatusOr<BrokerConfig> LoadConfig(const std::string& path) {
  auto text = ReadFileBounded(path, kMaxConfigSize);
  if (!text.ok()) return text.status();
  return ParseConfig(*text, path);
}

std::string DefaultConfigYaml() {
  return R"(# Portcullis broker configuration (portcullisd --config FILE).
# Unknown keys are errors. Relative paths are relative to this file.

# Where the SQLite store, keys, TLS material and recordings live.
data_dir: data

# Listener addresses, HOST:PORT. Port 0 disables a listener (not the API).
listen:
  grpc: 127.0.0.1:7443   # control-plane API (TLS) used by the portcullis CLI
  ssh: 0.0.0.0:2222
  vnc: 0.0.0.0:5900
  rdp: 0.0.0.0:3389

tls:
  # DNS names in the API server certificate (127.0.0.1 and ::1 are always in it).
  server_names: [localhost]

auth:
  token_ttl: 12h          # lifetime of a CLI login token
  lockout_failures: 5     # failed logins in lockout_window lock the account
  lockout_window: 15m
  lockout_failures_per_source: 100  # failed logins from one address in lockout_window block it (0: off)
  argon2_memory_kib: 19456
  argon2_iterations: 2
  max_concurrent_logins: 0  # password checks at once (each takes argon2_memory_kib); 0 = 2 x CPUs
  issuer: Portcullis      # name shown in authenticator apps

ssh_ca:
  cert_ttl: 5m            # lifetime of the certificates used to log in to targets (max 10m)
  source_address: ""      # e.g. "192.0.2.7": the broker's outbound address, pinned in certificates

ssh:
  login_cert_ttl: 8h      # lifetime of the certificate `portcullis login` writes (max 24h)
  auth_timeout: 60s       # a client must authenticate within this
  max_unauthenticated: 256  # concurrent connections that have not authenticated yet
  max_sessions: 4096      # concurrent SSH connections
  target_timeout: 15s     # connecting and logging in to a target
  max_channels_per_connection: 10  # session + tunnel channels open at once on one connection

recordings:
  # dir: /srv/recordings  # where recordings, manifests and seals go; default <data_dir>/recordings
  retention: 365d         # older recordings are deleted (not those on legal hold); 0 = keep forever
  max_size: 16GiB         # a recording reaching this ends its session (1MiB..16GiB)
  min_free: 64MiB         # new sessions are refused while the disk has less free space
  checkpoint_interval: 4s # how often a signed checkpoint seals what was written (1s..5s)

log:
  level: info
)";
}

}  // namespace portcullis::config
