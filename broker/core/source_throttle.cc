#include "broker/core/source_throttle.h"

#include <algorithm>

namespace portcullis::core {

std::string SourceThrottle::HostOf(std::string_view s) {
  if (s.rfind("ipv4:", 0) == 0 || s.rfind("ipv6:", 0) == 0) s.remove_prefix(5);
  if (s.rfind("%5B", 0) == 0) {
    const size_t end = s.find("%5D");
    return std::string(end == std::string_view::npos ? s.substr(3) : s.substr(3, end - 3));
  }
  if (!s.empty() && s.front() == '[') {
    const size_t end = s.find(']');
    return std::string(end == std::string_view::npos ? s.substr(1) : s.substr(1, end - 1));
  }
  const size_t colon = s.find(':');
  // One colon: HOST:PORT. More: a bare IPv6 address, kept whole.
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos)
    return std::string(s.substr(0, colon));
  return std::string(s);
}

void SourceThrottle::Lapse(Entry& e, int64_t now) const {
  while (!e.times.empty() && e.times.front() <= now - window_) e.times.pop_front();
}

bool SourceThrottle::Blocked(std::string_view source, int64_t now) {
  if (max_failures_ <= 0 || source.empty()) return false;
  const std::string host = HostOf(source);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sources_.find(host);
  if (it == sources_.end()) return false;
  Lapse(it->second, now);
  if (it->second.times.empty()) {
    sources_.erase(it);
    return false;
  }
  return static_cast<int>(it->second.times.size()) >= max_failures_;
}

void SourceThrottle::MakeRoom(int64_t now) {
  for (auto it = sources_.begin(); it != sources_.end();) {
    Lapse(it->second, now);
    it = it->second.times.empty() ? sources_.erase(it) : std::next(it);
  }
  if (sources_.size() < kMaxSources) return;
  auto oldest = std::min_element(sources_.begin(), sources_.end(), [](const auto& a, const auto& b) {
    return a.second.times.back() < b.second.times.back();
  });
  sources_.erase(oldest);
}

int SourceThrottle::Record(std::string_view source, int64_t now) {
  if (max_failures_ <= 0 || source.empty()) return 0;
  std::string host = HostOf(source);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sources_.find(host);
  if (it == sources_.end()) {
    if (sources_.size() >= kMaxSources) MakeRoom(now);
    it = sources_.emplace(std::move(host), Entry{}).first;
  }
  Entry& e = it->second;
  Lapse(e, now);
  e.times.push_back(now);
  while (static_cast<int>(e.times.size()) > max_failures_) e.times.pop_front();
  return static_cast<int>(e.times.size());
}

size_t SourceThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_.size();
}

}  // namespace portcullis::core
