#pragma once
// RAII owners for libssh handles. A session owns its channels (ssh_free
// frees them), so channels are held as raw pointers by their session's
// owner. None of these are thread-safe: one thread owns a session.

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>

#include <memory>
#include <string>

namespace portcullis::ssh {

struct SshSessionDeleter {
  void operator()(ssh_session s) const { ssh_free(s); }
};
using SshSessionPtr = std::unique_ptr<ssh_session_struct, SshSessionDeleter>;

struct SshBindDeleter {
  void operator()(ssh_bind b) const { ssh_bind_free(b); }
};
using SshBindPtr = std::unique_ptr<ssh_bind_struct, SshBindDeleter>;

struct SshKeyDeleter {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using SshKeyPtr = std::unique_ptr<ssh_key_struct, SshKeyDeleter>;

struct SshEventDeleter {
  void operator()(ssh_event e) const { ssh_event_free(e); }
};
using SshEventPtr = std::unique_ptr<ssh_event_struct, SshEventDeleter>;

struct SshStringDeleter {
  void operator()(ssh_string s) const { ssh_string_free(s); }
};
using SshStringPtr = std::unique_ptr<ssh_string_struct, SshStringDeleter>;

// Copies an ssh_string's bytes ("" for null).
inline std::string SshStringBytes(ssh_string s) {
  if (s == nullptr) return {};
  return std::string(static_cast<const char*>(ssh_string_data(s)), ssh_string_len(s));
}

// The SSH wire blob of a public key or certificate ("" on failure).
std::string KeyBlob(ssh_key key);

// Calls ssh_init() once per process (thread-safe).
void EnsureLibsshInitialised();

}  // namespace portcullis::ssh
