#include "agentless/vnc/vnc_listener.h"

#include <spdlog/spdlog.h>

#include "agentless/vnc/vnc_connection.h"

namespace portcullis::vnc {

VncListener::VncListener(VncServices services) : services_(std::move(services)) {}

VncListener::~VncListener() { Stop(); }

absl::Status VncListener::Start() {
  if (services_.tickets == nullptr) return absl::FailedPreconditionError("vnc: no ticket redeemer");
  const VncSettings& s = services_.settings;
  agentless::ListenerOptions opts;
  opts.name = "vnc";
  opts.host = s.host;
  opts.port = s.port;
  opts.max_connections = s.max_sessions;
  opts.max_unauthenticated = s.max_unauthenticated;
  opts.auth_timeout = s.auth_timeout;
  listener_ = std::make_unique<agentless::ProxyListener>(
      opts, services_.session.clock,
      [this](agentless::UniqueFd fd, const std::string& source, std::function<void()> hook)
          -> std::unique_ptr<agentless::ListenedConnection> {
        return std::make_unique<VncConnection>(services_, std::move(fd), source, std::move(hook));
      });
  if (auto st = listener_->Start(); !st.ok()) return st;
  spdlog::info("vnc: listening on {}:{}", s.host, listener_->port());
  return absl::OkStatus();
}

void VncListener::Stop() {
  if (listener_) listener_->Stop();
}

}  // namespace portcullis::vnc
