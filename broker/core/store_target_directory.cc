#include "broker/core/store_target_directory.h"

#include <utility>

namespace portcullis::core {
namespace {

session::AccessTarget FromRecord(store::TargetRecord r) {
  session::AccessTarget t;
  t.name = std::move(r.name);
  t.address = std::move(r.address);
  t.protocol = std::move(r.protocol);
  t.labels = std::move(r.labels);
  t.host_key = std::move(r.host_key);
  t.crypto_profile = std::move(r.crypto_profile);
  t.auth = std::move(r.auth);
  return t;
}

}  // namespace

absl::StatusOr<session::AccessTarget> StoreTargetDirectory::Get(std::string_view name) {
  auto r = repo_->Get(name);
  if (!r.ok()) return r.status();
  return FromRecord(std::move(*r));
}

absl::StatusOr<std::vector<session::AccessTarget>> StoreTargetDirectory::List() {
  auto all = repo_->List();
  if (!all.ok()) return all.status();
  std::vector<session::AccessTarget> out;
  out.reserve(all->size());
  for (auto& r : *all) out.push_back(FromRecord(std::move(r)));
  return out;
}

absl::Status StoreTargetDirectory::PinHostKey(std::string_view name,
                                              std::string_view host_key) {
  return repo_->PinHostKey(name, host_key);
}

}  // namespace portcullis::core
