#pragma once
// Mailbox: how other threads (the session registry, the listener at
// shutdown, `sessions kill`) post to a session's owning thread. The owner
// polls fd() with its protocol's other descriptors; posting is thread-safe
// and returns at once.
//
// The first end request wins; later ones are dropped (the session is
// already ending). Notices queue in order, at most kMaxNotices (older ones
// are dropped first: a notice is advisory, an end request is not).

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "agentless/common/unique_fd.h"
#include "broker/session/live_session.h"

namespace portcullis::agentless {

class Mailbox {
 public:
  static constexpr size_t kMaxNotices = 64;

  struct EndRequest {
    session::EndReason reason;
    std::string notice;
  };
  struct Mail {
    std::optional<EndRequest> end;
    std::deque<std::string> notices;
    bool empty() const { return !end && notices.empty(); }
  };

  Mailbox();  // an eventfd; valid() is false if none could be created
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  bool valid() const { return fd_.get() >= 0; }
  // Readable while mail waits; for poll().
  int fd() const { return fd_.get(); }

  // Any thread.
  void PostEnd(session::EndReason reason, std::string notice);
  void PostNotice(std::string line);
  // True once an end request was posted (any thread).
  bool end_requested() const { return end_posted_.load(std::memory_order_acquire); }

  // Owner thread: what was posted since the last Take(). Cheap when nothing
  // was posted (no lock, no syscall), so a relay may call it after every
  // poll.
  Mail Take();
  // Owner thread: call when fd() polls readable (it stays readable until
  // drained).
  void Drain();

 private:
  void Wake();

  UniqueFd fd_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> end_posted_{false};
  std::mutex mu_;
  std::optional<EndRequest> end_;  // guarded by mu_
  std::deque<std::string> notices_;  // guarded by mu_
};

}  // namespace portcullis::agentless
