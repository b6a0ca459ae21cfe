#pragma once
// KeyRepo: the SSH public keys users registered (`portcullis keys add`) for
// the SSH listener's public key login. A key is identified per user by its
// fingerprint; the same key may be registered for several users. A user's
// keys go when the user is deleted. Thread-safe via the Database lock; `db`
// is not owned and must outlive the repo.
//
// The repo stores what it is given: parsing the key line, checking its type
// and computing its fingerprint are the caller's job (auth/ca).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/store/database.h"

namespace portcullis::store {

struct UserKeyRecord {
  std::string user;
  std::string fingerprint;  // "SHA256:" + unpadded base64 of SHA-256(blob)
  std::string blob;         // SSH wire encoding of the public key
  std::string type;         // e.g. "ssh-ed25519"
  std::string comment;      // from the key line; may be empty
  int64_t created_at = 0;   // unix seconds; 0 on Add() = now
};

class KeyRepo {
 public:
  // Largest key blob accepted (an RSA-16384 key is about 2 KiB).
  static constexpr size_t kMaxBlobBytes = 16 * 1024;
  static constexpr size_t kMaxCommentBytes = 1024;

  explicit KeyRepo(Database* db);

  // NotFound if the user does not exist; AlreadyExists if the user already
  // has a key with this fingerprint; InvalidArgument on an empty or
  // oversized field or a fingerprint not of the form "SHA256:...".
  [[nodiscard]] absl::Status Add(const UserKeyRecord& k);
  // The user's keys in the order they were added (none for an unknown user).
  [[nodiscard]] absl::StatusOr<std::vector<UserKeyRecord>> List(std::string_view user);
  // NotFound if the user has no key with this fingerprint.
  [[nodiscard]] absl::Status Remove(std::string_view user, std::string_view fingerprint);
  // True iff `user` registered exactly this key blob (the SSH listener asks
  // with the public key the client offers).
  [[nodiscard]] absl::StatusOr<bool> HasKey(std::string_view user, std::string_view blob);

 private:
  Database* db_;
};

}  // namespace portcullis::store
