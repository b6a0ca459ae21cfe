#include "broker/common/absl_fmt.h"
#include "broker/core/target_validation.h"

#include <fmt/format.h>

#include <cctype>
#include <set>

#include "broker/common/bounded_reader.h"
#include "broker/common/encoding.h"
#include "broker/config/config.h"

namespace portcullis::core {

absl::Status ValidateTargetName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 &&
            ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'));
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        fmt::format("bad target name '{}': want 1-63 of a-z 0-9 . _ -", name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormaliseTargetAddress(std::string_view address) {
  auto a = config::ParseListenAddress(address);
  if (!a.ok()) return absl::InvalidArgumentError(fmt::format("--address: {}", a.status().message()));
  if (a->port == 0) return absl::InvalidArgumentError("--address: port must be 1-65535");
  return a->ToString();
}

absl::Status ValidateLabel(std::string_view key, std::string_view value) {
  auto good = [](std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    for (char c : s) {
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/' ||
            c == '-')) {
        return false;
      }
    }
    return true;
  };
  if (!good(key) || !good(value)) {
    return absl::InvalidArgumentError(fmt::format(
        "bad label '{}={}': keys and values are 1-63 of A-Z a-z 0-9 . _ / -", key, value));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormaliseHostKeyLine(std::string_view line) {
  static const std::set<std::string, std::less<>> kTypes = {
      "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
      "ssh-rsa"};
  if (line.size() > 16384) return absl::InvalidArgumentError("--host-key: too long");
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) {
    return absl::InvalidArgumentError("--host-key: want 'TYPE BASE64' as in known_hosts");
  }
  std::string_view type = line.substr(0, sp);
  std::string_view rest = line.substr(sp + 1);
  std::string_view b64 = rest.substr(0, rest.find(' '));
  if (!kTypes.count(type)) {
    return absl::InvalidArgumentError(fmt::format("--host-key: unsupported key type '{}'", type));
  }
  auto blob = Base64Decode(b64);
  if (!blob.ok()) return absl::InvalidArgumentError("--host-key: bad base64");
  BoundedReader r(*blob, 16384);
  auto inner = r.String(64);
  if (!inner.ok() || *inner != type) {
    return absl::InvalidArgumentError("--host-key: key blob does not match its type");
  }
  return fmt::format("{} {}", type, b64);
}

absl::StatusOr<std::string> NormaliseCertificatePin(std::string_view text) {
  std::string_view t = text;
  auto strip = [&](std::string_view prefix) {
    if (t.size() >= prefix.size()) {
      bool eq = true;
      for (size_t i = 0; i < prefix.size(); ++i)
        eq = eq && std::tolower(static_cast<unsigned char>(t[i])) == prefix[i];
      if (eq) t.remove_prefix(prefix.size());
    }
  };
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  strip("x509-sha256 ");
  strip("sha256 fingerprint=");
  strip("sha256:");
  std::string hex;
  for (char c : t) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return absl::InvalidArgumentError(
          "a VNC target's pin is the SHA-256 fingerprint of its certificate: 64 hex digits "
          "(as `openssl x509 -noout -fingerprint -sha256` prints it)");
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64)
    return absl::InvalidArgumentError(
        "a VNC target's pin is the SHA-256 fingerprint of its certificate: 64 hex digits "
        "(as `openssl x509 -noout -fingerprint -sha256` prints it)");
  return "x509-sha256 " + hex;
}

}  // namespace portcullis::core
