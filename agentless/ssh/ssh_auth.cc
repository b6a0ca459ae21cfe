#include "agentless/ssh/ssh_auth.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/ca/ed25519_key.h"
#include "auth/ca/login_binding.h"
#include "auth/ca/ssh_certificate.h"
#include "broker/common/encoding.h"
#include "broker/common/secret.h"

namespace portcullis::ssh {
namespace {

constexpr int kMethods = SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_INTERACTIVE;

enum class Step {
  kStart,          // nothing verified
  kAwaitAll,       // sent Password + Verification code prompts
  kKeyVerified,    // a registered key signed; TOTP still due
  kAwaitCode,      // sent the Verification code prompt
};

struct MessageDeleter {
  void operator()(ssh_message m) const { ssh_message_free(m); }
};
using MessagePtr = std::unique_ptr<ssh_message_struct, MessageDeleter>;

bool IsCertificate(ssh_key key) {
  switch (ssh_key_type(key)) {
    case SSH_KEYTYPE_ED25519_CERT01:
    case SSH_KEYTYPE_RSA_CERT01:
    case SSH_KEYTYPE_ECDSA_P256_CERT01:
    case SSH_KEYTYPE_ECDSA_P384_CERT01:
    case SSH_KEYTYPE_ECDSA_P521_CERT01:
      return true;
    default:
      return false;
  }
}


// The user id and login generation a (verified) login certificate carries;
// zeros, which match no user, if it carries none.
ca::LoginBinding BindingOf(const std::string& cert_blob, uint64_t* serial) {
  auto parsed = ca::ParseCertificate(cert_blob);
  if (!parsed.ok()) return {};
  *serial = parsed->fields.serial;
  auto binding = ca::ParseLoginKeyId(parsed->fields.key_id);
  return binding.ok() ? *binding : ca::LoginBinding{};
}

void Refuse(ssh_message msg) {
  ssh_message_auth_set_methods(msg, kMethods);
  ssh_message_reply_default(msg);
}

}  // namespace

absl::StatusOr<SshAuthResult> AuthenticateClient(ssh_session session,
                                                 const SshAuthServices& svc,
                                                 const std::string& source) {
  Step step = Step::kStart;
  std::string name;  // SSH user name of the current attempt
  SshAddress address;
  std::string key_fp;
  int failures = 0;
  bool revoked_probe_audited = false;  // one audit row per connection
  ssh_set_auth_methods(session, kMethods);

  auto new_user = [&](ssh_message msg) -> bool {
    const char* u = ssh_message_auth_user(msg);
    std::string user = u ? u : "";
    if (user == name && !name.empty()) return true;
    auto parsed = ParseSshAddress(user);
    if (!parsed.ok()) {
      (void)svc.authenticator->RecordFailure(user.substr(0, 64), "malformed SSH user name",
                                             source, "ssh");
      return false;
    }
    name = user;
    address = *parsed;
    step = Step::kStart;  // a new user name starts over (as sshd)
    return true;
  };

  while (failures < kMaxAuthAttempts) {
    MessagePtr msg(ssh_message_get(session));
    if (!msg) return absl::UnauthenticatedError("client gave up or timed out");
    if (ssh_message_type(msg.get()) != SSH_REQUEST_AUTH) {
      ssh_message_reply_default(msg.get());  // service requests ok, anything else refused
      continue;
    }
    const int method = ssh_message_subtype(msg.get());
    if (method == SSH_AUTH_METHOD_INTERACTIVE && ssh_message_auth_kbdint_is_response(msg.get())) {
      if (step != Step::kAwaitAll && step != Step::kAwaitCode) {
        ++failures;
        Refuse(msg.get());
        continue;
      }
      const int n = ssh_userauth_kbdint_getnanswers(session);
      const bool all = step == Step::kAwaitAll;
      if (n != (all ? 2 : 1)) {
        ++failures;
        step = all ? Step::kStart : Step::kKeyVerified;
        (void)svc.authenticator->RecordFailure(address.user, "wrong number of answers", source,
                                               "ssh");
        Refuse(msg.get());
        continue;
      }
      absl::StatusOr<session::Identity> id;
      if (all) {
        const char* pw = ssh_userauth_kbdint_getanswer(session, 0);
        const char* code = ssh_userauth_kbdint_getanswer(session, 1);
        auto password = SecretBytes::FromString(pw ? pw : "");
        if (!password.ok()) password = SecretBytes::FromString("");  // oversized: fails below
        id = svc.authenticator->PasswordAndTotp(address.user, *password, code ? code : "",
                                                source, "ssh");
      } else {
        const char* code = ssh_userauth_kbdint_getanswer(session, 0);
        id = svc.authenticator->KeyAndTotp(address.user, key_fp, code ? code : "", source, "ssh");
      }
      if (!id.ok()) {
        ++failures;
        step = all ? Step::kStart : Step::kKeyVerified;
        Refuse(msg.get());
        continue;
      }
      ssh_message_auth_reply_success(msg.get(), 0);
      return SshAuthResult{*id, address, all ? "keyboard-interactive" : "publickey+totp"};
    }
    if (!new_user(msg.get())) {
      ++failures;
      Refuse(msg.get());
      continue;
    }
    switch (method) {
      case SSH_AUTH_METHOD_INTERACTIVE: {
        const bool code_only = step == Step::kKeyVerified || step == Step::kAwaitCode;
        if (code_only) {
          const char* prompts[] = {"Verification code: "};
          char echo[] = {0};
          ssh_message_auth_interactive_request(msg.get(), "", "", 1, prompts, echo);
          step = Step::kAwaitCode;
        } else {
          const char* prompts[] = {"Password: ", "Verification code: "};
          char echo[] = {0, 0};
          ssh_message_auth_interactive_request(msg.get(), "", "", 2, prompts, echo);
          step = Step::kAwaitAll;
        }
        break;
      }
      case SSH_AUTH_METHOD_PUBLICKEY: {
        // libssh 0.10 marks these message accessors deprecated in favour of
        // the callback API, which cannot express this state machine (the
        // key and the keyboard-interactive step share one user name and
        // one failure count). They remain supported in 0.10.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        ssh_key key = ssh_message_auth_pubkey(msg.get());
        const auto state = ssh_message_auth_publickey_state(msg.get());
#pragma GCC diagnostic pop
        if (key == nullptr || state == SSH_PUBLICKEY_STATE_ERROR ||
            state == SSH_PUBLICKEY_STATE_WRONG) {
          if (state == SSH_PUBLICKEY_STATE_WRONG) {
            ++failures;
            (void)svc.authenticator->RecordFailure(address.user, "bad public key signature",
                                                   source, "ssh");
          }
          Refuse(msg.get());
          break;
        }
        const bool is_cert = IsCertificate(key);
        const std::string blob = KeyBlob(key);
        bool acceptable = false;
        uint64_t serial = 0;
        ca::LoginBinding binding;
        if (is_cert) {
          acceptable = svc.authority->VerifyLoginCertificate(blob, address.user).ok();
          if (acceptable) binding = BindingOf(blob, &serial);
          // A probe with a revoked certificate is told "no" (not counted),
          // so the client goes on to other methods; a signed attempt with
          // one is a counted failure below.
          if (acceptable && state == SSH_PUBLICKEY_STATE_NONE) {
            acceptable = svc.authenticator->LoginBindingIsCurrent(
                address.user, binding.user_id, binding.generation, source, "ssh",
                /*audit=*/!revoked_probe_audited);
            revoked_probe_audited = revoked_probe_audited || !acceptable;
          }
        } else if (svc.has_key) {
          acceptable = svc.has_key(address.user, blob);
        }
        if (!acceptable) {
          Refuse(msg.get());  // not counted: clients offer every key they hold
          break;
        }
        if (state == SSH_PUBLICKEY_STATE_NONE) {
          ssh_message_auth_reply_pk_ok_simple(msg.get());  // probe: "this key would do"
          break;
        }
        // SSH_PUBLICKEY_STATE_VALID: libssh verified the signature.
        if (is_cert) {
          auto id = svc.authenticator->LoginCertificate(address.user, binding.user_id,
                                                        binding.generation, serial, source, "ssh");
          if (!id.ok()) {
            ++failures;
            Refuse(msg.get());
            break;
          }
          ssh_message_auth_reply_success(msg.get(), 0);
          return SshAuthResult{*id, address, "login-certificate"};
        }
        key_fp = ca::Fingerprint(blob);
        step = Step::kKeyVerified;
        ssh_message_auth_set_methods(msg.get(), SSH_AUTH_METHOD_INTERACTIVE);
        ssh_message_auth_reply_success(msg.get(), 1);  // partial: the code is still due
        break;
      }
      default:
        Refuse(msg.get());  // none, password, hostbased, gssapi
        break;
    }
  }
  return absl::UnauthenticatedError("too many authentication failures");
}

}  // namespace portcullis::ssh
