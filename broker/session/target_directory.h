#pragma once
// TargetDirectory: what a protocol's access path may know about targets,
// without the store behind it. The broker implements it over its database
// (broker/core/store_target_directory.h); tests use fakes. Implementations
// are thread-safe.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis::session {

struct AccessTarget {
  std::string name;
  std::string address;   // HOST:PORT or [V6]:PORT
  std::string protocol;  // ssh | rdp | vnc | tcp
  std::map<std::string, std::string> labels;
  std::string host_key;  // pinned host key (or certificate fingerprint); "" = not yet pinned
  std::string crypto_profile = "modern";
  std::string auth = "certificate";  // certificate | password | key | none (vnc)
};

class TargetDirectory {
 public:
  virtual ~TargetDirectory() = default;
  // NotFound if there is no such target.
  [[nodiscard]] virtual absl::StatusOr<AccessTarget> Get(std::string_view name) = 0;
  // Every target, sorted by name.
  [[nodiscard]] virtual absl::StatusOr<std::vector<AccessTarget>> List() = 0;
  // Trust on first use, atomically: pins `host_key` iff none is pinned yet.
  // OK if the same key is already pinned; FailedPrecondition if another one
  // is; NotFound if the target is gone.
  [[nodiscard]] virtual absl::Status PinHostKey(std::string_view name,
                                                std::string_view host_key) = 0;
};

}  // namespace portcullis::session
