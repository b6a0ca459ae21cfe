#pragma once
// OffsetOrderedHash: SHA-256 over the bytes of one file, fed as (offset,
// data) pieces that may arrive out of order (pipelined SFTP reads/writes).
// Pieces at the next expected offset are hashed at once (no copy); pieces
// ahead of it are copied and held until the gap fills, within a per-file cap
// and a budget shared by all files of a session. A rewind, an overlap or a
// gap that overflows the caps ends hashing: the result is then "incomplete"
// and only the byte count keeps growing. Sha256Stream is the plain streaming
// digest underneath (also used by the SCP auditor).
// Not thread-safe; the budget must outlive every hash that uses it.

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "broker/common/openssl_handles.h"

namespace portcullis::ssh {

// Incremental SHA-256 (OpenSSL EVP).
class Sha256Stream {
 public:
  Sha256Stream();
  void Update(std::string_view bytes);
  // Lowercase hex digest; the stream must not be updated afterwards.
  std::string FinishHex();

 private:
  EvpMdCtxPtr ctx_;
};

// Bytes of out-of-order data held across all files of one session.
struct ReorderBudget {
  size_t limit = 0;
  size_t used = 0;
};

class OffsetOrderedHash {
 public:
  static constexpr size_t kDefaultMaxPending = 8u << 20;  // 8 MiB per file

  OffsetOrderedHash(ReorderBudget* budget, size_t max_pending = kDefaultMaxPending);
  ~OffsetOrderedHash();
  OffsetOrderedHash(const OffsetOrderedHash&) = delete;
  OffsetOrderedHash& operator=(const OffsetOrderedHash&) = delete;

  // Records `data` as the file's bytes at `offset`.
  void Add(uint64_t offset, std::string_view data);
  // Ends hashing for a reason of the caller's (e.g. a write the target refused).
  void MarkIncomplete(std::string_view reason);
  // Finalizes: a gap still pending makes the result incomplete. Call once.
  void Finish();

  uint64_t bytes() const { return bytes_; }
  bool complete() const { return incomplete_reason_.empty(); }
  const std::string& incomplete_reason() const { return incomplete_reason_; }
  // Valid after Finish(); "" when incomplete.
  const std::string& sha256_hex() const { return hex_; }

 private:
  void Drain();
  void ReleasePending();

  ReorderBudget* budget_;
  size_t max_pending_;
  Sha256Stream sha_;
  uint64_t next_ = 0;    // first offset not yet hashed
  uint64_t bytes_ = 0;   // every byte seen
  std::map<uint64_t, std::string> pending_;
  size_t pending_bytes_ = 0;
  std::string incomplete_reason_;
  std::string hex_;
  bool finished_ = false;
};

}  // namespace portcullis::ssh
