#include "auth/policy/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "broker/common/printable.h"

namespace portcullis::policy {
namespace {


// An assigned role name and its definition; `role` is null for unknown names
// and for the built-in admin role, and `note` then says why.
struct Assigned {
  std::string name;
  const Role* role = nullptr;
  std::string note;
};

std::vector<Assigned> Resolve(const std::map<std::string, Role>& roles,
                              const std::vector<std::string>& names) {
  std::set<std::string> sorted(names.begin(), names.end());
  std::vector<Assigned> out;
  for (const std::string& name : sorted) {
    Assigned a{Printable(name), nullptr, ""};
    if (name == kAdminRole) {
      a.note = "built-in admin role grants no target access";
    } else if (name == kAuditorRole) {
      a.note = "built-in auditor role grants no target access";
    } else if (auto it = roles.find(name); it == roles.end()) {
      a.note = "unknown role";
    } else {
      a.role = &it->second;
    }
    out.push_back(std::move(a));
  }
  return out;
}

bool Listed(const std::vector<Protocol>& list, Protocol p) {
  return std::find(list.begin(), list.end(), p) != list.end();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The reason text when deny entry `d` matches, or nullopt. An empty `login`
// matches no login-restricted entry (the caller re-checks once the default
// login is known).
std::optional<std::string> DenyMatches(const RoleDeny& d, const TargetInfo& target,
                                       std::string_view login, Protocol requested) {
  if (!SelectorMatches(d.targets, target.labels)) return std::nullopt;
  std::string why = "targets " + FormatSelector(d.targets);
  if (!d.logins.empty()) {
    bool hit = std::any_of(d.logins.begin(), d.logins.end(),
                           [&](const std::string& l) { return EqualsIgnoreCase(l, login); });
    if (!hit) return std::nullopt;
    why += ", login " + Printable(login);
  }
  if (!d.protocols.empty()) {
    if (Listed(d.protocols, requested)) {
      why += fmt::format(", protocol {}", ProtocolName(requested));
    } else if (Listed(d.protocols, target.protocol)) {
      why += fmt::format(", protocol {}", ProtocolName(target.protocol));
    } else {
      return std::nullopt;
    }
  }
  return why;
}

std::optional<Decision> CheckDenies(const std::vector<Assigned>& assigned, const AccessRequest& req,
                                    std::string_view login) {
  for (const Assigned& a : assigned) {
    if (a.role == nullptr || !a.role->deny) continue;
    if (auto why = DenyMatches(*a.role->deny, req.target, login, req.protocol)) {
      Decision d;
      d.role = a.name;
      d.rule = std::string(kRuleDeny);
      d.reason = fmt::format("role {} deny: {}", a.name, *why);
      return d;
    }
  }
  return std::nullopt;
}

// The outcome of matching one role's allow block.
struct AllowMatch {
  std::string failure;  // empty on success
  std::string login;    // effective login
  std::string hours;    // the window that matched ("" = no hours restriction)
};

AllowMatch MatchAllow(const RoleAllow& allow, const AccessRequest& req,
                      const std::optional<std::string>& tunnel) {
  const TargetInfo& target = req.target;
  // The session protocol: for an ssh -L tunnel the carrier, i.e. ssh.
  const Protocol carrier = target.protocol;
  AllowMatch m;
  if (!SelectorMatches(allow.targets, target.labels)) {
    m.failure = fmt::format("targets {} do not match target {}", FormatSelector(allow.targets),
                            Printable(target.name));
    return m;
  }
  if (!Listed(allow.protocols, carrier)) {
    m.failure = fmt::format("protocol {} not allowed", ProtocolName(carrier));
    return m;
  }
  if (req.login.empty()) {
    if (!allow.logins.empty()) {
      m.login = allow.logins.front();
    } else if (carrier == Protocol::kSsh || carrier == Protocol::kRdp) {
      m.failure = fmt::format("no login allowed for {}", ProtocolName(carrier));
      return m;
    }
  } else if (std::find(allow.logins.begin(), allow.logins.end(), req.login) ==
             allow.logins.end()) {
    m.failure = fmt::format("login {} not allowed", Printable(req.login));
    return m;
  } else {
    m.login = req.login;
  }
  if (!allow.hours.empty()) {
    auto hit = std::find_if(allow.hours.begin(), allow.hours.end(),
                            [&](const HoursWindow& w) { return w.Contains(req.at); });
    if (hit == allow.hours.end()) {
      std::string windows;
      for (const HoursWindow& w : allow.hours) {
        if (!windows.empty()) windows += " or ";
        windows += Printable(w.text, 128);
      }
      m.failure = "outside hours " + windows;
      return m;
    }
    m.hours = hit->text;
  }
  if (tunnel) {
    bool listed = std::any_of(allow.tunnels.begin(), allow.tunnels.end(), [&](const std::string& t) {
      auto n = NormalizeTunnel(t);
      return n.ok() && *n == *tunnel;
    });
    if (!listed) {
      m.failure = fmt::format("tunnel {} not allowed", *tunnel);
      return m;
    }
  }
  if (req.transfer && !TransferPermitted(allow.file_transfer, *req.transfer)) {
    m.failure = fmt::format("file transfer {} not allowed (role grants {})",
                            TransferDirectionName(*req.transfer),
                            FileTransferName(allow.file_transfer));
    return m;
  }
  return m;
}

Decision DefaultDeny(std::string reason) {
  Decision d;
  d.rule = std::string(kRuleDefaultDeny);
  d.reason = std::move(reason);
  return d;
}

}  // namespace

Decision Decide(const std::map<std::string, Role>& roles, const AccessRequest& req) {
  const std::vector<Assigned> assigned = Resolve(roles, req.role_names);
  if (auto denied = CheckDenies(assigned, req, req.login)) return *denied;

  const TargetInfo& target = req.target;
  const bool ssh_tunnel = req.protocol == Protocol::kTcp && target.protocol == Protocol::kSsh &&
                          req.tunnel.has_value();
  if (req.protocol != target.protocol && !ssh_tunnel) {
    return DefaultDeny(fmt::format("target {} speaks {} (requested {})", Printable(target.name),
                                   ProtocolName(target.protocol), ProtocolName(req.protocol)));
  }
  std::optional<std::string> tunnel;
  if (req.tunnel) {
    auto n = NormalizeTunnel(*req.tunnel);
    if (!n.ok()) return DefaultDeny(std::string(n.status().message()));
    tunnel = std::move(*n);
  }

  std::string failures;
  for (const Assigned& a : assigned) {
    std::string failure = a.note;
    if (a.role != nullptr) {
      AllowMatch m = MatchAllow(a.role->allow, req, tunnel);
      if (m.failure.empty()) {
        if (req.login.empty() && !m.login.empty()) {
          if (auto denied = CheckDenies(assigned, req, m.login)) return *denied;
        }
        const Role& role = *a.role;
        Decision d;
        d.allowed = true;
        d.role = a.name;
        d.rule = std::string(kRuleAllow);
        d.reason = fmt::format("role {} allow: targets {}", a.name,
                               FormatSelector(role.allow.targets));
        if (!m.login.empty()) d.reason += ", login " + m.login;
        d.reason += fmt::format(", protocol {}", ProtocolName(req.protocol));
        if (ssh_tunnel) d.reason += " over ssh";
        if (!m.hours.empty()) d.reason += ", hours " + Printable(m.hours, 128);
        if (tunnel) d.reason += ", tunnel " + *tunnel;
        if (req.transfer) {
          d.reason += fmt::format(", file transfer {}", TransferDirectionName(*req.transfer));
        }
        d.login = m.login;
        d.file_transfer = role.allow.file_transfer;
        d.tunnels = role.allow.tunnels;
        d.max_session = role.options.max_session;
        d.require_approval = role.options.require_approval;
        d.record_input = role.options.record_input;
        d.exec = role.options.exec;
        d.view_only = role.options.view_only;
        d.clipboard = role.options.clipboard;
        return d;
      }
      failure = std::move(m.failure);
    }
    if (!failures.empty()) failures += "; ";
    failures += a.name + ": " + failure;
  }
  if (failures.empty()) failures = "no roles assigned";
  return DefaultDeny("no role allows this: " + failures);
}

bool CanSeeTarget(const std::map<std::string, Role>& roles,
                  const std::vector<std::string>& role_names, const TargetInfo& target) {
  const std::vector<Assigned> assigned = Resolve(roles, role_names);
  bool allowed = false;
  for (const Assigned& a : assigned) {
    if (a.role == nullptr) continue;
    if (const auto& d = a.role->deny; d && d->logins.empty() &&
                                      (d->protocols.empty() || Listed(d->protocols, target.protocol)) &&
                                      SelectorMatches(d->targets, target.labels)) {
      return false;
    }
    allowed = allowed || SelectorMatches(a.role->allow.targets, target.labels);
  }
  return allowed;
}

}  // namespace portcullis::policy
