// RoleToYaml (declared in role_parser.h): canonical YAML for a Role.
#include <fmt/format.h>

#include "auth/policy/role_parser.h"
#include "broker/common/time_format.h"

namespace portcullis::policy {
namespace {

// A YAML scalar: plain when that is unambiguous, double-quoted otherwise.
std::string Scalar(std::string_view s) {
  bool plain = !s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                              (s[0] >= '0' && s[0] <= '9') || s[0] == '_');
  for (char c : s) {
    if (!plain) break;
    plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-' || c == '/';
  }
  // Words the YAML core schema reads as null.
  if (s == "null" || s == "Null" || s == "NULL") plain = false;
  if (plain) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string Selector(const LabelSelector& sel) {
  std::string out = "{";
  for (const auto& [key, value] : sel) {
    if (out.size() > 1) out += ", ";
    out += Scalar(key) + ": " + Scalar(value);
  }
  return out + "}";
}

template <typename T, typename F>
std::string List(const std::vector<T>& items, F&& format) {
  std::string out = "[";
  for (const T& item : items) {
    if (out.size() > 1) out += ", ";
    out += format(item);
  }
  return out + "]";
}

std::string Strings(const std::vector<std::string>& items) {
  return List(items, [](const std::string& s) { return Scalar(s); });
}

std::string Protocols(const std::vector<Protocol>& items) {
  return List(items, [](Protocol p) { return std::string(ProtocolName(p)); });
}

}  // namespace

std::string RoleToYaml(const Role& role) {
  std::string out = "kind: role\n";
  out += "name: " + Scalar(role.name) + "\n";
  out += "allow:\n";
  out += "  targets: " + Selector(role.allow.targets) + "\n";
  if (!role.allow.logins.empty()) out += "  logins: " + Strings(role.allow.logins) + "\n";
  out += "  protocols: " + Protocols(role.allow.protocols) + "\n";
  if (!role.allow.tunnels.empty()) out += "  tunnels: " + Strings(role.allow.tunnels) + "\n";
  out += fmt::format("  file_transfer: {}\n", FileTransferName(role.allow.file_transfer));
  if (!role.allow.hours.empty()) {
    out += "  hours: " +
           List(role.allow.hours, [](const HoursWindow& w) { return Scalar(w.text); }) + "\n";
  }
  const RoleOptions& o = role.options;
  out += "options:\n";
  if (o.max_session.count() > 0) out += "  max_session: " + FormatDuration(o.max_session) + "\n";
  out += fmt::format("  require_approval: {}\n", o.require_approval);
  out += fmt::format("  record_input: {}\n", o.record_input);
  if (!o.exec) out += "  exec: false\n";
  if (o.view_only) out += "  view_only: true\n";
  if (o.clipboard != Clipboard::kNone)
    out += fmt::format("  clipboard: {}\n", ClipboardName(o.clipboard));
  if (role.deny) {
    out += "deny:\n";
    out += "  targets: " + Selector(role.deny->targets) + "\n";
    if (!role.deny->logins.empty()) out += "  logins: " + Strings(role.deny->logins) + "\n";
    if (!role.deny->protocols.empty()) {
      out += "  protocols: " + Protocols(role.deny->protocols) + "\n";
    }
  }
  return out;
}

}  // namespace portcullis::policy
