#pragma once
// StoreTargetDirectory: the TargetDirectory protocol code sees, over the
// broker's TargetRepo. Thread-safe (the repo is); `repo` must outlive it.

#include "broker/session/target_directory.h"
#include "broker/store/target_repo.h"

namespace portcullis::core {

class StoreTargetDirectory final : public session::TargetDirectory {
 public:
  explicit StoreTargetDirectory(store::TargetRepo* repo) : repo_(repo) {}
  absl::StatusOr<session::AccessTarget> Get(std::string_view name) override;
  absl::StatusOr<std::vector<session::AccessTarget>> List() override;
  absl::Status PinHostKey(std::string_view name, std::string_view host_key) override;

 private:
  store::TargetRepo* repo_;
};

}  // namespace portcullis::core
