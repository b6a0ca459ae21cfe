// Fuzzes the role YAML parser (untrusted admin input). Checks, beyond "no
// crash": errors carry "file:line:", accepted roles round-trip through
// RoleToYaml to equal values, and deciding against them never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "auth/policy/engine.h"
#include "auth/policy/role_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::policy;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto roles = ParseRolesYaml(in, "fuzz.yaml");
  if (!roles.ok()) {
    if (std::string(roles.status().message()).rfind("fuzz.yaml:", 0) != 0) std::abort();
    return 0;
  }
  std::map<std::string, Role> table;
  std::vector<std::string> names;
  for (const Role& r : *roles) {
    auto again = ParseRolesYaml(RoleToYaml(r), "again.yaml");
    if (!again.ok() || again->size() != 1 || !((*again)[0] == r)) std::abort();
    table.emplace(r.name, r);
    names.push_back(r.name);
  }
  AccessRequest req;
  req.user = "fuzz";
  req.role_names = names;
  req.target = TargetInfo{"t", {{"site", "plant-a"}, {"vendor", "acme"}}, Protocol::kSsh};
  req.at = portcullis::FromUnix(1'790'000'000);
  req.tunnel = "10.20.0.5:502";
  req.transfer = TransferDirection::kDownload;
  (void)Decide(table, req);
  req.tunnel.reset();
  req.transfer.reset();
  (void)Decide(table, req);
  (void)CanSeeTarget(table, names, req.target);
  return 0;
}
