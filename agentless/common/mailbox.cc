#include "agentless/common/mailbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace portcullis::agentless {

Mailbox::Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void Mailbox::Wake() {
  pending_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  if (fd_.get() >= 0) (void)!write(fd_.get(), &one, sizeof one);
}

void Mailbox::PostEnd(session::EndReason reason, std::string notice) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (end_posted_.load(std::memory_order_relaxed)) return;
    end_.emplace(EndRequest{reason, std::move(notice)});
    end_posted_.store(true, std::memory_order_release);
  }
  Wake();
}

void Mailbox::PostNotice(std::string line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (notices_.size() >= kMaxNotices) notices_.pop_front();
    notices_.push_back(std::move(line));
  }
  Wake();
}

void Mailbox::Drain() {
  uint64_t v;
  while (fd_.get() >= 0 && read(fd_.get(), &v, sizeof v) > 0) {
  }
}

Mailbox::Mail Mailbox::Take() {
  Mail mail;
  if (!pending_.exchange(false, std::memory_order_acq_rel)) return mail;
  std::lock_guard<std::mutex> lock(mu_);
  mail.end.swap(end_);
  mail.notices.swap(notices_);
  return mail;
}

}  // namespace portcullis::agentless
