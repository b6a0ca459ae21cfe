#pragma once
// Maintenance: a background thread that keeps the store bounded: every
// interval it purges expired tokens and authentication-failure records older
// than the lockout window, and applies recording retention (deletes expired
// recordings not on legal hold; see core::RecordingCatalogue::Prune). Stop() (or the destructor) joins it. The Broker
// must outlive this.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "broker/core/broker.h"

namespace portcullis::daemon {

class Maintenance {
 public:
  explicit Maintenance(core::Broker& broker,
                       std::chrono::seconds interval = std::chrono::minutes(5));
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  // One purge pass (also used by tests).
  static void RunOnce(core::Broker& broker);
  void Stop();

 private:
  core::Broker& broker_;
  std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace portcullis::daemon
