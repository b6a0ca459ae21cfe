#pragma once
// SshServices: everything the SSH access path may use, as narrow seams: its
// own settings, the listener's host key, how users authenticate, and the
// protocol-neutral session services (admission, the session registry, the
// recorders, the audit writer, the clock). Never the broker, its store or
// its keys: the Authority behind the admission step and the authenticator
// are the only holders of those. The daemon builds it; everything it points
// to must outlive the listener.

#include <chrono>
#include <cstdint>
#include <string>

#include "agentless/common/proxy_session.h"
#include "agentless/ssh/ssh_auth.h"
#include "auth/ca/ed25519_key.h"

namespace portcullis::ssh {

struct SshSettings {
  std::string host = "0.0.0.0";  // listen address
  uint16_t port = 2222;          // 0 = an ephemeral port (tests)
  std::chrono::seconds auth_timeout{60};    // banner..authenticated
  int max_unauthenticated = 256;            // concurrent pre-auth connections
  int max_sessions = 4096;                  // concurrent connections
  std::chrono::seconds target_timeout{15};  // connect + handshake to a target
  int max_channels_per_connection = 10;     // session + tunnel channels at once
};

struct SshServices {
  SshSettings settings;
  const ca::Ed25519Key* host_key = nullptr;  // the listener's host key
  SshAuthServices auth;
  agentless::SessionServices session;
};

}  // namespace portcullis::ssh
