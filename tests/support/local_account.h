#pragma once
// LocalAccount: a throwaway local Unix account for tests that log in to a
// real SSH server with a password or an authorized key (useradd -m, a
// password set with chpasswd, removed with its home by userdel -r when the
// object dies). Names must be unique per test: ctest runs tests in
// parallel. Not thread-safe. Needs root.

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace portcullis::testing {

class LocalAccount {
 public:
  // Removes a leftover account of that name, creates it with /bin/sh and
  // sets its password (sshd refuses a locked account even for keys).
  // `password` must not hold ':' or a newline.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<LocalAccount>> Create(
      const std::string& name, const std::string& password);
  ~LocalAccount();
  LocalAccount(const LocalAccount&) = delete;
  LocalAccount& operator=(const LocalAccount&) = delete;

  const std::string& name() const { return name_; }
  const std::string& home() const { return home_; }

  // Replaces ~/.ssh/authorized_keys with `lines` (0600, .ssh 0700, both
  // owned by the account).
  [[nodiscard]] absl::Status AuthorizeKeys(std::string_view lines);
  // Writes `data` to home()/relative_path, owned by the account, mode 0644.
  [[nodiscard]] absl::Status WriteFile(const std::string& relative_path, std::string_view data);

 private:
  LocalAccount(std::string name, std::string home, uid_t uid, gid_t gid)
      : name_(std::move(name)), home_(std::move(home)), uid_(uid), gid_(gid) {}
  absl::Status Chown(const std::string& path) const;

  std::string name_;
  std::string home_;
  uid_t uid_;
  gid_t gid_;
};

}  // namespace portcullis::testing
