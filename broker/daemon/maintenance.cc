#include "broker/daemon/maintenance.h"

#include <spdlog/spdlog.h>

#include "broker/common/absl_fmt.h"

namespace portcullis::daemon {

Maintenance::Maintenance(core::Broker& broker, std::chrono::seconds interval)
    : broker_(broker), interval_(interval) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      RunOnce(broker_);
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

Maintenance::~Maintenance() { Stop(); }

void Maintenance::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Maintenance::RunOnce(core::Broker& broker) {
  int64_t now = broker.clock()->NowUnix();
  auto tokens = broker.token_store().PurgeExpired(now);
  if (!tokens.ok()) spdlog::warn("maintenance: token purge failed: {}", tokens.status().message());
  auto failures =
      broker.users().PurgeAuthFailuresBefore(now - broker.config().lockout_window.count());
  if (!failures.ok()) {
    spdlog::warn("maintenance: auth-failure purge failed: {}", failures.status().message());
  }
  if (tokens.ok() && failures.ok() && (*tokens > 0 || *failures > 0)) {
    spdlog::info("maintenance: purged {} expired tokens, {} old auth failures", *tokens, *failures);
  }
  // Retention: each deleted recording is audited by the catalogue.
  (void)broker.recording_catalogue().Prune("system", "");
}

}  // namespace portcullis::daemon
