#include "broker/audit/event_catalogue.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

namespace portcullis::audit {
namespace {

constexpr JsonType S = JsonType::kString;
constexpr JsonType I = JsonType::kInteger;
constexpr JsonType B = JsonType::kBoolean;
constexpr JsonType A = JsonType::kStringArray;
constexpr JsonType O = JsonType::kObject;
constexpr bool kReq = true;
constexpr bool kOpt = false;

// The session ID, on every event written once a session has one.
constexpr DetailKey kSession{"session", S, kOpt};

// session::EndReasonName() of every end reason (tests/broker/session checks
// that the two lists agree).
#define PC_END_REASONS                                                                    \
  "client-closed", "target-closed", "killed", "user-disabled", "max-session", "shutdown", \
      "recording-failed", "error"

std::vector<EventSpec> Build() {
  std::vector<EventSpec> c = {
      // The broker itself.
      {"broker.init", "`system`", "data dir", {"success"},
       {{"admin", S, kReq}, {"ssh_user_ca", S, kReq}},
       "`portcullisd init` created the data directory, the CAs and the first admin"},
      {"broker.start", "`system`", "config path", {"success"},
       {{"api", S, kReq}, {"recordings", S, kOpt}},
       "the daemon is serving (`api` is the bound address)"},
      {"broker.stop", "`system`", "config path", {"success"},
       {{"api", S, kReq}, {"recordings", S, kOpt}},
       "the daemon stopped cleanly (SIGTERM or SIGINT)"},
      {"tls.imported", "`system`", "certificate subject", {"success"},
       {{"subject", S, kReq}, {"issuer", S, kReq}, {"sha256_fingerprint", S, kReq},
        {"serial", S, kReq}, {"not_before", S, kReq}, {"not_after", S, kReq},
        {"sans", A, kReq}, {"key_type", S, kReq}, {"chain", A, kReq},
        {"replaces_sha256_fingerprint", S, kReq}, {"os_user", S, kReq}},
       "`portcullisd tls import` installed a certificate from the plant's PKI (section 4.1)"},

      // Authentication.
      {"auth.login", "name tried", "name tried", {"success", "failure"},
       {{"channel", S, kReq}, {"method", S, kOpt}, {"mfa", S, kOpt}, {"reason", S, kOpt},
        {"user_bytes", I, kOpt}, {"counted", B, kOpt}},
       "one login attempt (API or SSH): `method` and `mfa` on success, `reason` on failure"},
      {"auth.mfa_failure", "user", "user", {"failure"},
       {{"channel", S, kReq}, {"reason", S, kReq}},
       "the password or key was right, the verification code was not"},
      {"auth.source_lockout", "`system`", "address", {"locked"},
       {{"failures", I, kReq}, {"window_seconds", I, kReq}},
       "an address reached the failed-login limit and is refused for the window"},
      {"auth.lockout", "`system`", "user", {"locked"},
       {{"failures", I, kReq}, {"window_seconds", I, kReq}},
       "the user reached the failure limit and is locked out for the window"},
      {"auth.logout", "user", "user", {"success"}, {}, "`portcullis logout` revoked the token"},
      {"ca.login_cert_issued", "user", "user", {"success"},
       {{"serial", I, kReq}, {"key_id", S, kReq}, {"key_fingerprint", S, kReq},
        {"valid_before", S, kReq}},
       "`portcullis login` got a login certificate for the user's SSH key"},

      // Administration.
      {"admin.user_add", "admin (`system` at init)", "user", {"success"},
       {{"roles", A, kReq}}, "a user was created"},
      {"admin.user_roles", "admin", "user", {"success"}, {{"roles", A, kReq}},
       "a user's roles were replaced"},
      {"admin.user_disable", "admin", "user", {"success"}, {{"sessions_ended", I, kReq}},
       "a user was disabled: tokens revoked, live sessions ended"},
      {"admin.user_enable", "admin", "user", {"success"}, {}, "a user was enabled again"},
      {"admin.totp_reset", "admin", "user", {"success"},
       {{"login_generation", I, kReq}, {"sessions_ended", I, kOpt}},
       "a user got a new TOTP seed; older login certificates and tokens stop working"},
      {"admin.user_reset", "admin", "user", {"success"},
       {{"login_generation", I, kReq}, {"sessions_ended", I, kOpt}},
       "a user got a new password and TOTP seed; older login certificates and tokens stop working"},
      {"admin.user_delete", "admin", "user", {"success"}, {{"sessions_ended", I, kReq}},
       "a user was removed"},
      {"admin.role_apply", "admin", "role", {"success"},
       {{"change", S, kReq}, {"yaml", S, kReq}},
       "a role was created or updated (`change`), with its canonical YAML"},
      {"admin.role_delete", "admin", "role", {"success"}, {}, "a role was removed"},
      {"admin.target_add", "admin", "target", {"success"},
       {{"address", S, kReq}, {"protocol", S, kReq}, {"labels", O, kReq}, {"host_key", S, kReq},
        {"crypto", S, kReq}, {"auth", S, kReq}},
       "a target was added (`host_key` is the pin, or `trust-on-first-use`)"},
      {"admin.target_remove", "admin", "target", {"success"}, {}, "a target was removed"},
      {"target.secret_set", "admin", "target", {"success"},
       {{"login", S, kReq}, {"kind", S, kReq}, {"domain", S, kReq}},
       "a secret was vaulted for a target login (never the value)"},
      {"target.secret_removed", "admin", "target", {"success"},
       {{"login", S, kReq}, {"kind", S, kReq}}, "a vaulted secret was removed"},
      {"key.add", "user (or admin)", "key owner", {"success"},
       {{"fingerprint", S, kReq}, {"type", S, kReq}}, "an SSH public key was registered"},
      {"key.remove", "user (or admin)", "key owner", {"success"},
       {{"fingerprint", S, kReq}}, "a registered SSH key was removed"},
      {"session.kill", "admin", "session ID", {"success"},
       {{"user", S, kReq}, {"login", S, kReq}, {"target", S, kReq}, {"protocol", S, kReq},
        {"source", S, kReq}},
       "`portcullis sessions kill` ended a live session"},
      {"policy.check", "admin", "`user->target`", {"allow", "deny"},
       {{"user", S, kReq}, {"target", S, kReq}, {"login", S, kReq}, {"protocol", S, kReq},
        {"at", S, kReq}, {"rule", S, kReq}, {"role", S, kReq}, {"reason", S, kReq}},
       "`portcullis policy check` asked what the policy would decide"},

      // The access path (admission, SSH).
      {"ssh.handshake_failed", "empty", "`ssh-listener`", {"failure"}, {{"error", S, kReq}},
       "SSH key exchange failed (not SSH, no common algorithm, timeout)"},
      {"policy.decision", "user", "target", {"allowed", "denied"},
       {{"request", S, kReq}, {"login", S, kReq}, {"protocol", S, kReq}, {"role", S, kReq},
        {"rule", S, kReq}, {"reason", S, kReq}, kSession, {"destination", S, kOpt},
        {"direction", S, kOpt}, {"path", S, kOpt}, {"writes", B, kOpt}, {"command", S, kOpt}},
       "a decision on a session, tunnel, file transfer, SFTP request or exec (`request`)"},
      {"ticket.issued", "user", "target", {"success"},
       {{"ticket_id", S, kReq}, {"target", S, kReq}, {"login", S, kReq}, {"protocol", S, kReq},
        {"expires", S, kReq}, {"evicted", S, kOpt}},
       "`portcullis access` got a one-time connection ticket (never the ticket itself; "
       "`evicted`: the older pending ticket of that source it replaced)"},
      {"ticket.redeemed", "user", "target", {"success"},
       {{"ticket_id", S, kReq}, {"login", S, kReq}, {"protocol", S, kReq}},
       "a viewer or client presented a valid ticket; it is used up"},
      {"ticket.refused", "ticket's user, or empty", "target, or `(unknown ticket)`", {"denied"},
       {{"reason", S, kReq}, {"protocol", S, kReq}, {"ticket_id", S, kOpt},
        {"refusals", I, kOpt}},
       "a ticket was refused: `expired`, `reused`, `wrong source` (the ticket is void), "
       "`no match` or `rate-limited`"},
      {"session.refused", "user", "target", {"denied"}, {{"reason", S, kReq}, kSession},
       "a session was refused because its recording cannot be written"},
      {"ca.cert_issued", "user", "target", {"success"},
       {{"serial", I, kReq}, {"key_id", S, kReq}, {"principal", S, kReq},
        {"valid_before", S, kReq}, kSession},
       "the target CA signed the session's ephemeral certificate"},
      {"target.host_key_pinned", "user", "target", {"success"},
       {{"host_key", S, kReq}, {"how", S, kReq}, kSession},
       "the target's host key was pinned on first use"},
      {"target.host_key_mismatch", "user", "target", {"failure"},
       {{"error", S, kReq}, {"login", S, kReq}, {"presented", S, kOpt}, kSession},
       "the target presented a host key other than its pin; the session was refused"},
      {"session.target_failed", "user", "target", {"failure"},
       {{"error", S, kReq}, {"login", S, kReq}, {"auth", S, kOpt}, {"reason", S, kOpt},
        kSession},
       "the broker could not connect or log in to the target"},
      {"session.start", "user", "target, or `(menu)`", {"success", "denied"},
       {{"session", S, kReq}, {"login", S, kReq}, {"auth", S, kReq}, {"cert_serial", I, kReq},
        {"role", S, kReq}, {"ticket", S, kOpt}},
       "a session started (`denied`: refused, its channels only show why)"},
      {"tunnel.open", "user", "target", {"success", "failure"},
       {{"destination", S, kReq}, {"error", S, kOpt}, kSession},
       "a `direct-tcpip` tunnel was opened through the target, or the target refused it"},
      {"tunnel.close", "user", "target", {"success", PC_END_REASONS},
       {{"destination", S, kReq}, {"bytes_up", I, kReq}, {"bytes_down", I, kReq}, kSession},
       "a tunnel closed (outcome: the end reason when the session ended first)"},
      {"file.transfer", "user", "target", {"success", "incomplete"},
       {{"path", S, kReq}, {"direction", S, kReq}, {"size", I, kReq}, {"sha256", S, kReq},
        {"via", S, kReq}, {"login", S, kReq}, {"incomplete", S, kOpt}, {"pattern", S, kOpt},
        kSession},
       "one file moved over SFTP or scp, with its SHA-256"},
      {"file.op", "user", "target", {"forwarded"},
       {{"op", S, kReq}, {"path", S, kReq}, {"path2", S, kReq}, kSession},
       "an SFTP request that changes the target, as sent (not whether it succeeded)"},
      {"file.refused", "user", "target", {"denied"},
       {{"command", S, kReq}, {"reason", S, kReq}, {"role", S, kReq}, kSession},
       "an exec command that may transfer files unaudited was refused (11.5)"},
      {"file.audit_error", "user", "session ID", {"failure"},
       {{"reason", S, kReq}, {"from", S, kReq}, kSession},
       "an SFTP or scp stream could not be parsed; the channel was closed"},
      {"ssh.window_overrun", "user", "target, or `(none)`", {"failure"},
       {{"from", S, kReq}, {"channel", S, kReq}, {"held_bytes", I, kReq},
        {"limit_bytes", I, kReq}, kSession},
       "a side sent more than its SSH window; that channel was closed"},
      {"ssh.channel_refused", "user", "target, or `(none)`", {"denied"},
       {{"channel", S, kReq}, {"reason", S, kReq}, {"limit", I, kReq}, kSession},
       "a channel beyond `ssh.max_channels_per_connection` was refused (once per connection)"},
      // The VNC access path.
      {"vnc.handshake_failed", "empty", "`vnc-listener`", {"failure"}, {{"error", S, kReq}},
       "an RFB handshake failed before a ticket was presented (not RFB, an unsupported version "
       "or security type, a viewer that stalled or left)"},
      {"vnc.input_dropped", "user", "target", {"denied"},
       {{"keys", I, kReq}, {"pointer", I, kReq}, {"resize", I, kReq}, {"reason", S, kReq},
        kSession},
       "a burst of keyboard, pointer or resize input from a view-only viewer was dropped (one "
       "row per burst: counts of dropped events)"},
      {"vnc.clipboard", "user", "target", {"forwarded", "denied"},
       {{"direction", S, kReq}, {"bytes", I, kReq}, {"sha256", S, kReq}, {"reason", S, kOpt},
        kSession},
       "clipboard text crossed the broker (`direction` to-target: from the viewer; to-viewer: "
       "from the target) or was dropped (`denied`: once per session and direction); its length "
       "and SHA-256, never the text"},
      {"vnc.protocol_error", "user", "target", {"failure"},
       {{"from", S, kReq}, {"error", S, kReq}, kSession},
       "the viewer or the target sent a refused or malformed RFB message; the session ended"},
      {"session.ending", "user", "target (empty at the menu)", {PC_END_REASONS},
       {{"notice", S, kReq}, kSession},
       "a session was asked to end (outcome: the end reason; `notice`: the line shown)"},
      {"session.end", "user", "target, requested target, or `(menu)`", {"success"},
       {{"session", S, kReq}, {"reason", S, kReq}, {"bytes_up", I, kReq},
        {"bytes_down", I, kReq}, {"duration_seconds", I, kReq}},
       "a session ended (`reason`: the end reason)"},

      // Recordings.
      {"recording.play", "user", "recording ID", {"success"},
       {{"user", S, kReq}, {"target", S, kReq}, {"from_micros", I, kReq}, {"offset", I, kReq},
        {"size", I, kReq}},
       "a recording was replayed (`user`, `target`: the recording's)"},
      {"recording.export", "user", "recording ID", {"success"},
       {{"user", S, kReq}, {"target", S, kReq}, {"from_micros", I, kReq}, {"offset", I, kReq},
        {"size", I, kReq}},
       "a recording was exported"},
      {"recording.verify", "user", "recording ID", {"success"},
       {{"user", S, kReq}, {"target", S, kReq}, {"verdict", S, kReq}, {"message", S, kReq}},
       "a recording's seal was verified on the broker"},
      {"recording.search", "user", "`recordings`", {"success"},
       {{"needle", S, kReq}, {"scanned", I, kReq}, {"hits", I, kReq}, {"unreadable", I, kReq},
        {"recordings", A, kReq}, {"user", S, kOpt}, {"target", S, kOpt}, {"since", S, kOpt},
        {"recordings_omitted", I, kOpt}},
       "recordings were searched (`recordings`: IDs with hits, at most 500)"},
      {"recording.hold", "admin", "recording ID", {"success"},
       {{"hold", B, kReq}, {"user", S, kReq}, {"target", S, kReq}},
       "a legal hold was set or lifted"},
      {"recording.prune", "admin", "`recordings`", {"success"},
       {{"deleted", I, kReq}, {"failed", I, kReq}, {"retention_seconds", I, kReq}},
       "`portcullis recordings prune` ran retention now"},
      {"recording.deleted", "admin, or `system` for the periodic run", "recording ID",
       {"success"},
       {{"paths", A, kReq}, {"user", S, kReq}, {"target", S, kReq}, {"started", S, kReq},
        {"ended", S, kReq}, {"state", S, kReq}, {"retention_seconds", I, kReq}},
       "retention deleted a recording's files (`paths`: relative to the recordings directory)"},
      {"recording.delete_failed", "admin, or `system`", "recording ID", {"failure"},
       {{"error", S, kReq}}, "retention could not delete a recording; it is tried again"},
      {"recording.truncated", "`system`", "recording ID", {"truncated"},
       {{"user", S, kReq}, {"target", S, kReq}, {"path", S, kReq}, {"size", I, kReq}},
       "a recording left open by a stopped broker was marked truncated at start"},
  };
  std::sort(c.begin(), c.end(),
            [](const EventSpec& a, const EventSpec& b) { return a.type < b.type; });
  for (size_t i = 1; i < c.size(); ++i) {
    if (c[i - 1].type == c[i].type) std::abort();  // a type defined twice
  }
  return c;
}

#undef PC_END_REASONS

bool HasType(const nlohmann::json& v, JsonType t) {
  switch (t) {
    case JsonType::kString: return v.is_string();
    case JsonType::kInteger: return v.is_number_integer();
    case JsonType::kBoolean: return v.is_boolean();
    case JsonType::kStringArray:
      return v.is_array() &&
             std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_string(); });
    case JsonType::kObject:
      return v.is_object() &&
             std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_string(); });
  }
  return false;
}

}  // namespace

std::string_view JsonTypeName(JsonType t) {
  switch (t) {
    case JsonType::kString: return "string";
    case JsonType::kInteger: return "integer";
    case JsonType::kBoolean: return "boolean";
    case JsonType::kStringArray: return "string array";
    case JsonType::kObject: return "object";
  }
  return "?";
}

const std::vector<EventSpec>& EventCatalogue() {
  static const std::vector<EventSpec>* const kCatalogue = new std::vector<EventSpec>(Build());
  return *kCatalogue;
}

const EventSpec* FindEventSpec(std::string_view type) {
  const std::vector<EventSpec>& c = EventCatalogue();
  auto it = std::lower_bound(c.begin(), c.end(), type,
                             [](const EventSpec& s, std::string_view t) { return s.type < t; });
  return it != c.end() && it->type == type ? &*it : nullptr;
}

absl::Status ValidateEvent(const AuditEvent& e) {
  const EventSpec* spec = FindEventSpec(e.type);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("audit event type {:.128} is not in the event catalogue", e.type));
  }
  if (std::find(spec->outcomes.begin(), spec->outcomes.end(), e.outcome) ==
      spec->outcomes.end()) {
    return absl::InvalidArgumentError(
        fmt::format("audit event {}: outcome {:.64} is not allowed", spec->type, e.outcome));
  }
  static const nlohmann::json kNoDetails = nlohmann::json::object();
  const nlohmann::json& details = e.details.is_null() ? kNoDetails : e.details;
  if (!details.is_object()) {
    return absl::InvalidArgumentError(
        fmt::format("audit event {}: details must be a JSON object", spec->type));
  }
  size_t required_seen = 0;
  for (const auto& item : details.items()) {
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    auto k = std::find_if(spec->details.begin(), spec->details.end(),
                          [&](const DetailKey& d) { return d.name == key; });
    if (k == spec->details.end()) {
      return absl::InvalidArgumentError(
          fmt::format("audit event {}: unknown detail key {:.64}", spec->type, key));
    }
    if (!HasType(value, k->type)) {
      return absl::InvalidArgumentError(fmt::format("audit event {}: detail {} must be of type {}",
                                                    spec->type, k->name, JsonTypeName(k->type)));
    }
    if (k->required) ++required_seen;
  }
  const size_t required = static_cast<size_t>(std::count_if(
      spec->details.begin(), spec->details.end(), [](const DetailKey& d) { return d.required; }));
  if (required_seen != required) {
    for (const DetailKey& d : spec->details) {
      if (d.required && !details.contains(std::string(d.name))) {
        return absl::InvalidArgumentError(
            fmt::format("audit event {}: required detail {} is missing", spec->type, d.name));
      }
    }
  }
  return absl::OkStatus();
}

bool AbortOnCatalogueViolation() {
  static const bool strict = [] {
    const char* v = std::getenv("PORTCULLIS_AUDIT_STRICT");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return strict;
}

}  // namespace portcullis::audit
