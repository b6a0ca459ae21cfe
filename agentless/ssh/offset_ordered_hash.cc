#include "agentless/ssh/offset_ordered_hash.h"

#include <cstdlib>
#include <iterator>

#include "broker/common/encoding.h"

namespace portcullis::ssh {

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

void Sha256Stream::Update(std::string_view bytes) {
  if (bytes.empty()) return;
  if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) std::abort();
}

std::string Sha256Stream::FinishHex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1) std::abort();
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

OffsetOrderedHash::OffsetOrderedHash(ReorderBudget* budget, size_t max_pending)
    : budget_(budget), max_pending_(max_pending) {}

OffsetOrderedHash::~OffsetOrderedHash() { ReleasePending(); }

void OffsetOrderedHash::ReleasePending() {
  budget_->used -= pending_bytes_;
  pending_bytes_ = 0;
  pending_.clear();
}

void OffsetOrderedHash::MarkIncomplete(std::string_view reason) {
  if (incomplete_reason_.empty()) incomplete_reason_ = std::string(reason);
  ReleasePending();
}

void OffsetOrderedHash::Add(uint64_t offset, std::string_view data) {
  if (finished_ || data.empty()) return;
  bytes_ += data.size();
  if (!complete()) return;
  if (offset > UINT64_MAX - data.size()) {
    MarkIncomplete("offset overflow");
    return;
  }
  const uint64_t end = offset + data.size();
  if (offset < next_) {
    MarkIncomplete("non-sequential access (rewind or overlap)");
    return;
  }
  // The first held piece (if any) starts after next_; `data` may not reach into it.
  auto after = pending_.lower_bound(offset);
  if (after != pending_.end() && end > after->first) {
    MarkIncomplete("non-sequential access (overlap)");
    return;
  }
  if (offset == next_) {
    sha_.Update(data);
    next_ = end;
    Drain();
    return;
  }
  if (after != pending_.begin()) {
    auto before = std::prev(after);
    if (before->first + before->second.size() > offset) {
      MarkIncomplete("non-sequential access (overlap)");
      return;
    }
  }
  if (pending_bytes_ + data.size() > max_pending_ ||
      budget_->used + data.size() > budget_->limit) {
    MarkIncomplete("non-sequential access (gap larger than the reorder buffer)");
    return;
  }
  pending_.emplace(offset, std::string(data));
  pending_bytes_ += data.size();
  budget_->used += data.size();
}

void OffsetOrderedHash::Drain() {
  while (!pending_.empty() && pending_.begin()->first == next_) {
    auto node = pending_.extract(pending_.begin());
    sha_.Update(node.mapped());
    next_ += node.mapped().size();
    pending_bytes_ -= node.mapped().size();
    budget_->used -= node.mapped().size();
  }
}

void OffsetOrderedHash::Finish() {
  if (finished_) return;
  finished_ = true;
  if (complete() && !pending_.empty()) MarkIncomplete("non-sequential access (gap never filled)");
  ReleasePending();
  std::string hex = sha_.FinishHex();
  if (complete()) hex_ = std::move(hex);
}

}  // namespace portcullis::ssh
