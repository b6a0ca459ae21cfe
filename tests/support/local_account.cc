#include "tests/support/local_account.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace portcullis::testing {
namespace {

// useradd, userdel and chpasswd take a lock on /etc/passwd and /etc/shadow
// and fail at once when another test (ctest runs them in parallel) holds
// it: retry those for a while.
CommandResult RunAccountCommand(const std::vector<std::string>& argv,
                                const std::string& input = "") {
  CommandResult r;
  for (int attempt = 0; attempt < 100; ++attempt) {
    r = RunCommand(argv, input);
    if (r.exit_code == 0 || r.err.find("lock") == std::string::npos) return r;
    ::usleep(50 * 1000);
  }
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalAccount>> LocalAccount::Create(const std::string& name,
                                                                   const std::string& password) {
  if (password.find_first_of(":\n") != std::string::npos)
    return absl::InvalidArgumentError("the password holds ':' or a newline");
  RunAccountCommand({"userdel", "-f", "-r", name});
  CommandResult add = RunAccountCommand({"useradd", "-m", "-s", "/bin/sh", name});
  if (add.exit_code != 0)
    return absl::InternalError(fmt::format("useradd {} failed: {}", name, add.err));
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr) {
    RunAccountCommand({"userdel", "-f", "-r", name});
    return absl::InternalError(fmt::format("no passwd entry for {} after useradd", name));
  }
  std::unique_ptr<LocalAccount> account(
      new LocalAccount(name, found->pw_dir, found->pw_uid, found->pw_gid));
  CommandResult set = RunAccountCommand({"chpasswd"}, name + ":" + password + "\n");
  if (set.exit_code != 0)
    return absl::InternalError(fmt::format("chpasswd for {} failed: {}", name, set.err));
  return account;
}

LocalAccount::~LocalAccount() { RunAccountCommand({"userdel", "-f", "-r", name_}); }

absl::Status LocalAccount::Chown(const std::string& path) const {
  if (::chown(path.c_str(), uid_, gid_) != 0)
    return absl::InternalError(fmt::format("chown {}: {}", path, std::strerror(errno)));
  return absl::OkStatus();
}

absl::Status LocalAccount::AuthorizeKeys(std::string_view lines) {
  const std::string dir = home_ + "/.ssh";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return absl::InternalError(fmt::format("mkdir {}: {}", dir, std::strerror(errno)));
  if (auto st = Chown(dir); !st.ok()) return st;
  const std::string file = dir + "/authorized_keys";
  if (auto st = WriteWholeFile(file, lines, 0600); !st.ok()) return st;
  return Chown(file);
}

absl::Status LocalAccount::WriteFile(const std::string& relative_path, std::string_view data) {
  const std::string path = home_ + "/" + relative_path;
  if (auto st = WriteWholeFile(path, data, 0644); !st.ok()) return st;
  return Chown(path);
}

}  // namespace portcullis::testing
