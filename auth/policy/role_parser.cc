#include "auth/policy/role_parser.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <initializer_list>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "broker/common/printable.h"
#include "broker/common/yaml_load.h"
#include "broker/common/time_format.h"

namespace portcullis::policy {
namespace {


constexpr size_t kMaxSelectorKeys = 32;
constexpr size_t kMaxLogins = 64;
constexpr size_t kMaxTunnels = 256;
constexpr size_t kMaxHours = 32;

std::string_view TypeName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

// One `key: value` of a YAML map, with the key's 1-based line.
struct Field {
  std::string key;
  int line = 0;
  YAML::Node value;
};

// Walks one document. Every error carries file:line: path.
class RoleReader {
 public:
  explicit RoleReader(std::string_view filename) : file_(Printable(filename, 128)) {}

  absl::Status Error(int line, std::string_view path, std::string_view msg) const {
    if (path.empty()) return absl::InvalidArgumentError(fmt::format("{}:{}: {}", file_, line, msg));
    return absl::InvalidArgumentError(fmt::format("{}:{}: {}: {}", file_, line, path, msg));
  }

  // The 1-based line of `n`, or `fallback` when yaml-cpp has no mark for it.
  // Null values (`key:` with nothing after it) report the key's line.
  static int LineOf(const YAML::Node& n, int fallback) {
    if (n.IsNull()) return fallback;
    const YAML::Mark m = n.Mark();
    return m.line >= 0 ? m.line + 1 : fallback;
  }

  // Sets *name_line to the line of the `name` field.
  absl::StatusOr<Role> ReadRole(const YAML::Node& doc, int doc_line, int* name_line);

 private:
  // The fields of map `n`, in order; unknown, duplicate and non-scalar keys
  // are errors. `path` is the map's own path ("" for the document).
  absl::StatusOr<std::vector<Field>> Fields(const YAML::Node& n, int line, const std::string& path,
                                            std::initializer_list<std::string_view> allowed) const;
  absl::StatusOr<std::string> Scalar(const YAML::Node& n, int line, const std::string& path) const;
  // A list of scalars (at most `max` entries, no duplicates).
  absl::StatusOr<std::vector<std::pair<std::string, int>>> ScalarList(const YAML::Node& n, int line,
                                                                      const std::string& path,
                                                                      size_t max) const;
  absl::StatusOr<bool> Bool(const YAML::Node& n, int line, const std::string& path) const;
  absl::StatusOr<LabelSelector> Selector(const YAML::Node& n, int line,
                                         const std::string& path) const;
  absl::StatusOr<std::vector<std::string>> Logins(const YAML::Node& n, int line,
                                                  const std::string& path) const;
  absl::StatusOr<std::vector<Protocol>> Protocols(const YAML::Node& n, int line,
                                                  const std::string& path) const;
  absl::StatusOr<std::vector<std::string>> Tunnels(const YAML::Node& n, int line,
                                                   const std::string& path) const;
  absl::StatusOr<std::vector<HoursWindow>> Hours(const YAML::Node& n, int line,
                                                 const std::string& path) const;
  absl::StatusOr<RoleAllow> Allow(const YAML::Node& n, int line) const;
  absl::StatusOr<RoleOptions> Options(const YAML::Node& n, int line) const;
  absl::StatusOr<RoleDeny> Deny(const YAML::Node& n, int line) const;

  std::string file_;
};

std::string Join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (std::string_view s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

absl::StatusOr<std::vector<Field>> RoleReader::Fields(
    const YAML::Node& n, int line, const std::string& path,
    std::initializer_list<std::string_view> allowed) const {
  if (!n.IsMap()) {
    return Error(LineOf(n, line), path.empty() ? "" : path,
                 fmt::format("expected a map, got {}", TypeName(n)));
  }
  std::vector<Field> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    // Copies: the iterator's operator-> yields a temporary proxy.
    const YAML::Node k = it->first;
    const YAML::Node v = it->second;
    const int key_line = LineOf(k, LineOf(n, line));
    if (!k.IsScalar()) {
      return Error(key_line, path, fmt::format("keys must be scalars, got {}", TypeName(k)));
    }
    const std::string key = k.Scalar();
    const std::string field_path = Child(path, Printable(key));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Error(key_line, field_path,
                   fmt::format("unknown field (expected one of: {})", Join(allowed)));
    }
    for (const Field& f : out) {
      if (f.key == key) {
        return Error(key_line, field_path,
                     fmt::format("duplicate field (first at line {})", f.line));
      }
    }
    out.push_back(Field{key, key_line, v});
  }
  return out;
}

absl::StatusOr<std::string> RoleReader::Scalar(const YAML::Node& n, int line,
                                               const std::string& path) const {
  if (!n.IsScalar()) {
    return Error(LineOf(n, line), path, fmt::format("expected a string, got {}", TypeName(n)));
  }
  return n.Scalar();
}

absl::StatusOr<std::vector<std::pair<std::string, int>>> RoleReader::ScalarList(
    const YAML::Node& n, int line, const std::string& path, size_t max) const {
  if (!n.IsSequence()) {
    return Error(LineOf(n, line), path, fmt::format("expected a list, got {}", TypeName(n)));
  }
  if (n.size() > max) {
    return Error(LineOf(n, line), path, fmt::format("too many entries ({}, max {})", n.size(), max));
  }
  std::vector<std::pair<std::string, int>> out;
  size_t i = 0;
  for (auto it = n.begin(); it != n.end(); ++it, ++i) {
    const std::string item_path = fmt::format("{}[{}]", path, i);
    const int item_line = LineOf(*it, LineOf(n, line));
    auto s = Scalar(*it, item_line, item_path);
    if (!s.ok()) return s.status();
    out.emplace_back(std::move(*s), item_line);
  }
  return out;
}

absl::StatusOr<bool> RoleReader::Bool(const YAML::Node& n, int line,
                                      const std::string& path) const {
  auto s = Scalar(n, line, path);
  if (!s.ok()) return s.status();
  if (*s == "true" || *s == "True" || *s == "TRUE") return true;
  if (*s == "false" || *s == "False" || *s == "FALSE") return false;
  return Error(LineOf(n, line), path,
               fmt::format("expected true or false, got '{}'", Printable(*s)));
}

absl::StatusOr<LabelSelector> RoleReader::Selector(const YAML::Node& n, int line,
                                                   const std::string& path) const {
  if (!n.IsMap()) {
    return Error(LineOf(n, line), path, fmt::format("expected a map, got {}", TypeName(n)));
  }
  if (n.size() == 0) {
    return Error(LineOf(n, line), path,
                 "empty selector matches nothing (use {\"*\": \"*\"} for every target)");
  }
  if (n.size() > kMaxSelectorKeys) {
    return Error(LineOf(n, line), path,
                 fmt::format("too many labels ({}, max {})", n.size(), kMaxSelectorKeys));
  }
  LabelSelector sel;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node k = it->first;
    const YAML::Node v = it->second;
    const int key_line = LineOf(k, LineOf(n, line));
    if (!k.IsScalar()) {
      return Error(key_line, path, fmt::format("label keys must be strings, got {}", TypeName(k)));
    }
    const std::string key = k.Scalar();
    const std::string key_path = Child(path, Printable(key));
    if (key != kMatchAll && !IsValidLabelKey(key)) {
      return Error(key_line, key_path, "bad label key (want [A-Za-z0-9._/-]{1,63})");
    }
    auto value = Scalar(v, key_line, key_path);
    if (!value.ok()) return value.status();
    if (*value != kMatchAll && !IsValidLabelValue(*value)) {
      return Error(LineOf(v, key_line), key_path,
                   fmt::format("bad label value '{}' (want [A-Za-z0-9._/-]{{1,63}} or \"*\")",
                               Printable(*value)));
    }
    if (key == kMatchAll && *value != kMatchAll) {
      return Error(key_line, key_path, "the match-all selector is {\"*\": \"*\"}");
    }
    if (!sel.emplace(key, std::move(*value)).second) {
      return Error(key_line, key_path, "duplicate label key");
    }
  }
  if (sel.size() > 1 && sel.count(std::string(kMatchAll)) != 0) {
    return Error(LineOf(n, line), path, "\"*\" must be the only key of a match-all selector");
  }
  return sel;
}

absl::StatusOr<std::vector<std::string>> RoleReader::Logins(const YAML::Node& n, int line,
                                                            const std::string& path) const {
  auto items = ScalarList(n, line, path, kMaxLogins);
  if (!items.ok()) return items.status();
  std::vector<std::string> out;
  for (size_t i = 0; i < items->size(); ++i) {
    auto& [login, item_line] = (*items)[i];
    const std::string item_path = fmt::format("{}[{}]", path, i);
    if (!IsValidLogin(login)) {
      return Error(item_line, item_path,
                   fmt::format("bad login '{}' (want [A-Za-z_][A-Za-z0-9_.-]{{0,63}})",
                               Printable(login)));
    }
    if (std::find(out.begin(), out.end(), login) != out.end()) {
      return Error(item_line, item_path, fmt::format("duplicate login '{}'", login));
    }
    out.push_back(std::move(login));
  }
  return out;
}

absl::StatusOr<std::vector<Protocol>> RoleReader::Protocols(const YAML::Node& n, int line,
                                                            const std::string& path) const {
  auto items = ScalarList(n, line, path, 16);
  if (!items.ok()) return items.status();
  std::vector<Protocol> out;
  for (size_t i = 0; i < items->size(); ++i) {
    const auto& [name, item_line] = (*items)[i];
    const std::string item_path = fmt::format("{}[{}]", path, i);
    auto p = ParseProtocol(name);
    if (!p.ok()) return Error(item_line, item_path, std::string(p.status().message()));
    if (std::find(out.begin(), out.end(), *p) != out.end()) {
      return Error(item_line, item_path, fmt::format("duplicate protocol '{}'", name));
    }
    out.push_back(*p);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> RoleReader::Tunnels(const YAML::Node& n, int line,
                                                             const std::string& path) const {
  auto items = ScalarList(n, line, path, kMaxTunnels);
  if (!items.ok()) return items.status();
  std::vector<std::string> out;
  for (size_t i = 0; i < items->size(); ++i) {
    const auto& [text, item_line] = (*items)[i];
    const std::string item_path = fmt::format("{}[{}]", path, i);
    auto t = NormalizeTunnel(text);
    if (!t.ok()) return Error(item_line, item_path, std::string(t.status().message()));
    if (std::find(out.begin(), out.end(), *t) != out.end()) {
      return Error(item_line, item_path, fmt::format("duplicate tunnel '{}'", *t));
    }
    out.push_back(std::move(*t));
  }
  return out;
}

absl::StatusOr<std::vector<HoursWindow>> RoleReader::Hours(const YAML::Node& n, int line,
                                                           const std::string& path) const {
  std::vector<std::pair<std::string, int>> texts;
  if (n.IsScalar()) {
    texts.emplace_back(n.Scalar(), LineOf(n, line));
  } else if (n.IsSequence()) {
    auto items = ScalarList(n, line, path, kMaxHours);
    if (!items.ok()) return items.status();
    if (items->empty()) {
      return Error(LineOf(n, line), path, "empty list (omit `hours` to allow any time)");
    }
    texts = std::move(*items);
  } else {
    return Error(LineOf(n, line), path,
                 fmt::format("expected a string or a list of strings, got {}", TypeName(n)));
  }
  std::vector<HoursWindow> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string item_path = n.IsSequence() ? fmt::format("{}[{}]", path, i) : path;
    auto w = ParseHoursWindow(texts[i].first);
    if (!w.ok()) return Error(texts[i].second, item_path, std::string(w.status().message()));
    out.push_back(std::move(*w));
  }
  return out;
}

absl::StatusOr<RoleAllow> RoleReader::Allow(const YAML::Node& n, int line) const {
  auto fields = Fields(n, line, "allow",
                       {"targets", "logins", "protocols", "tunnels", "file_transfer", "hours"});
  if (!fields.ok()) return fields.status();
  RoleAllow allow;
  bool has_targets = false, has_protocols = false;
  int logins_line = 0, tunnels_line = 0;
  for (const Field& f : *fields) {
    const std::string path = "allow." + f.key;
    if (f.key == "targets") {
      auto v = Selector(f.value, f.line, path);
      if (!v.ok()) return v.status();
      allow.targets = std::move(*v);
      has_targets = true;
    } else if (f.key == "logins") {
      auto v = Logins(f.value, f.line, path);
      if (!v.ok()) return v.status();
      allow.logins = std::move(*v);
      logins_line = f.line;
    } else if (f.key == "protocols") {
      auto v = Protocols(f.value, f.line, path);
      if (!v.ok()) return v.status();
      if (v->empty()) return Error(f.line, path, "empty list (a role must allow a protocol)");
      allow.protocols = std::move(*v);
      has_protocols = true;
    } else if (f.key == "tunnels") {
      auto v = Tunnels(f.value, f.line, path);
      if (!v.ok()) return v.status();
      allow.tunnels = std::move(*v);
      tunnels_line = f.line;
    } else if (f.key == "file_transfer") {
      auto s = Scalar(f.value, f.line, path);
      if (!s.ok()) return s.status();
      auto v = ParseFileTransfer(*s);
      if (!v.ok()) return Error(f.line, path, std::string(v.status().message()));
      allow.file_transfer = *v;
    } else if (f.key == "hours") {
      auto v = Hours(f.value, f.line, path);
      if (!v.ok()) return v.status();
      allow.hours = std::move(*v);
    }
  }
  // Missing fields are reported on the `allow:` line.
  if (!has_targets) return Error(line, "allow.targets", "required");
  if (!has_protocols) return Error(line, "allow.protocols", "required");
  auto has = [&](Protocol p) {
    return std::find(allow.protocols.begin(), allow.protocols.end(), p) != allow.protocols.end();
  };
  if ((has(Protocol::kSsh) || has(Protocol::kRdp)) && allow.logins.empty()) {
    if (logins_line != 0) {
      return Error(logins_line, "allow.logins",
                   "empty list (required when protocols include ssh or rdp)");
    }
    return Error(line, "allow.logins", "required when protocols include ssh or rdp");
  }
  if (!allow.tunnels.empty() && !has(Protocol::kSsh) && !has(Protocol::kTcp)) {
    return Error(tunnels_line, "allow.tunnels", "tunnels need protocol ssh or tcp");
  }
  return allow;
}

absl::StatusOr<RoleOptions> RoleReader::Options(const YAML::Node& n, int line) const {
  auto fields = Fields(n, line, "options", {"max_session", "require_approval", "record_input", "exec", "view_only",
                                          "clipboard"});
  if (!fields.ok()) return fields.status();
  RoleOptions options;
  for (const Field& f : *fields) {
    const std::string path = "options." + f.key;
    if (f.key == "max_session") {
      auto s = Scalar(f.value, f.line, path);
      if (!s.ok()) return s.status();
      auto d = ParseDuration(*s);
      if (!d.ok()) return Error(f.line, path, Printable(std::string(d.status().message()), 160));
      if (*d > kMaxSessionLimit) {
        return Error(f.line, path, fmt::format("'{}' exceeds the 7 day limit", Printable(*s)));
      }
      options.max_session = *d;
    } else if (f.key == "clipboard") {
      auto s = Scalar(f.value, f.line, path);
      if (!s.ok()) return s.status();
      auto c = ParseClipboard(*s);
      if (!c.ok()) return Error(f.line, path, std::string(c.status().message()));
      options.clipboard = *c;
    } else {
      auto b = Bool(f.value, f.line, path);
      if (!b.ok()) return b.status();
      (f.key == "require_approval" ? options.require_approval
       : f.key == "exec"           ? options.exec
       : f.key == "view_only"      ? options.view_only
                                   : options.record_input) = *b;
    }
  }
  return options;
}

absl::StatusOr<RoleDeny> RoleReader::Deny(const YAML::Node& n, int line) const {
  auto fields = Fields(n, line, "deny", {"targets", "logins", "protocols"});
  if (!fields.ok()) return fields.status();
  if (fields->empty()) return Error(line, "deny", "empty deny block");
  RoleDeny deny;
  bool has_targets = false;
  for (const Field& f : *fields) {
    const std::string path = "deny." + f.key;
    if (f.key == "targets") {
      auto v = Selector(f.value, f.line, path);
      if (!v.ok()) return v.status();
      deny.targets = std::move(*v);
      has_targets = true;
    } else if (f.key == "logins") {
      auto v = Logins(f.value, f.line, path);
      if (!v.ok()) return v.status();
      if (v->empty()) return Error(f.line, path, "empty list (omit it to deny every login)");
      deny.logins = std::move(*v);
    } else if (f.key == "protocols") {
      auto v = Protocols(f.value, f.line, path);
      if (!v.ok()) return v.status();
      if (v->empty()) return Error(f.line, path, "empty list (omit it to deny every protocol)");
      deny.protocols = std::move(*v);
    }
  }
  if (!has_targets) {
    return Error(line, "deny.targets",
                 "required (use {\"*\": \"*\"} to deny on every target)");
  }
  return deny;
}

absl::StatusOr<Role> RoleReader::ReadRole(const YAML::Node& doc, int doc_line, int* name_line) {
  if (!doc.IsMap()) {
    return Error(LineOf(doc, doc_line), "",
                 fmt::format("a role document must be a map, got {}", TypeName(doc)));
  }
  auto fields = Fields(doc, doc_line, "", {"kind", "name", "allow", "options", "deny"});
  if (!fields.ok()) return fields.status();
  const int line = LineOf(doc, doc_line);
  const Field* by_key[5] = {};
  const char* const keys[5] = {"kind", "name", "allow", "options", "deny"};
  for (const Field& f : *fields) {
    for (int i = 0; i < 5; ++i) {
      if (f.key == keys[i]) by_key[i] = &f;
    }
  }
  const Field* kind = by_key[0];
  const Field* name = by_key[1];
  if (kind == nullptr) return Error(line, "kind", "required (kind: role)");
  auto kind_value = Scalar(kind->value, kind->line, "kind");
  if (!kind_value.ok()) return kind_value.status();
  if (*kind_value != "role") {
    return Error(kind->line, "kind",
                 fmt::format("expected 'role', got '{}'", Printable(*kind_value)));
  }
  if (name == nullptr) return Error(line, "name", "required");
  auto name_value = Scalar(name->value, name->line, "name");
  if (!name_value.ok()) return name_value.status();
  if (!IsValidRoleName(*name_value)) {
    return Error(name->line, "name",
                 fmt::format("bad role name '{}' (want [a-z0-9][a-z0-9._-]{{0,62}})",
                             Printable(*name_value)));
  }
  if (*name_value == kAdminRole) {
    return Error(name->line, "name", "'admin' is the reserved built-in role");
  }
  if (*name_value == kAuditorRole) {
    return Error(name->line, "name", "'auditor' is the reserved built-in reviewer role");
  }
  Role role;
  role.name = std::move(*name_value);
  *name_line = name->line;
  if (by_key[2] == nullptr) return Error(line, "allow", "required");
  auto allow = Allow(by_key[2]->value, by_key[2]->line);
  if (!allow.ok()) return allow.status();
  role.allow = std::move(*allow);
  if (by_key[3] != nullptr) {
    auto options = Options(by_key[3]->value, by_key[3]->line);
    if (!options.ok()) return options.status();
    role.options = *options;
  }
  if (by_key[4] != nullptr) {
    auto deny = Deny(by_key[4]->value, by_key[4]->line);
    if (!deny.ok()) return deny.status();
    role.deny = std::move(*deny);
  }
  return role;
}

// The 1-based line of the first NUL byte, or 0.
int LineOfNul(std::string_view s) {
  size_t pos = s.find('\0');
  if (pos == std::string_view::npos) return 0;
  return 1 + static_cast<int>(std::count(s.begin(), s.begin() + static_cast<long>(pos), '\n'));
}

}  // namespace

absl::StatusOr<std::vector<Role>> ParseRolesYaml(std::string_view yaml, std::string_view filename) {
  RoleReader reader(filename);
  if (yaml.size() > kMaxRoleYamlBytes) {
    return reader.Error(1, "", fmt::format("role file too large ({} bytes, max {})", yaml.size(),
                                           kMaxRoleYamlBytes));
  }
  if (int nul_line = LineOfNul(yaml); nul_line != 0) {
    return reader.Error(nul_line, "", "NUL byte in input");
  }
  std::vector<YAML::Node> docs;
  YamlLoadError load_error;
  if (!LoadAllYaml(std::string(yaml), &docs, &load_error)) {
    return reader.Error(load_error.line, "", load_error.message);
  }
  try {
    std::vector<Role> roles;
    std::map<std::string, int> name_lines;
    for (const YAML::Node& doc : docs) {
      if (doc.IsNull()) continue;  // empty document, e.g. a trailing ---
      int line = 1;
      auto role = reader.ReadRole(doc, 1, &line);
      if (!role.ok()) return role.status();
      auto [it, inserted] = name_lines.emplace(role->name, line);
      if (!inserted) {
        return reader.Error(line, "name",
                            fmt::format("duplicate role name '{}' (first defined at line {})",
                                        role->name, it->second));
      }
      roles.push_back(std::move(*role));
    }
    if (roles.empty()) return reader.Error(1, "", "no role documents");
    return roles;
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return reader.Error(line, "", fmt::format("bad YAML: {}", Printable(e.msg, 160)));
  } catch (const std::exception& e) {
    return reader.Error(1, "", fmt::format("cannot read roles: {}", Printable(e.what(), 160)));
  }
}

}  // namespace portcullis::policy
