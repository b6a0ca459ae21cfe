#include "agentless/common/proxy_listener.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace portcullis::agentless {

std::string FormatPeer(const void* sockaddr_storage_ptr) {
  const auto* ss = static_cast<const sockaddr_storage*>(sockaddr_storage_ptr);
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss->ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(a->sin_port));
  }
  if (ss->ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
  }
  return "unknown";
}

ProxyListener::ProxyListener(ListenerOptions options, const Clock* clock, Factory factory)
    : options_(std::move(options)), clock_(clock), factory_(std::move(factory)) {}

ProxyListener::~ProxyListener() { Stop(); }

absl::Status ProxyListener::Start() {
  const std::string where = fmt::format("{}:{}", options_.host, options_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(options_.port);
  const int gai = getaddrinfo(options_.host.empty() ? nullptr : options_.host.c_str(),
                              port.c_str(), &hints, &res);
  if (gai != 0) {
    return absl::InvalidArgumentError(
        fmt::format("{}: cannot resolve the listen address {}: {}", options_.name, where,
                    gai_strerror(gai)));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) {
      last_error = strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd.get(), SOMAXCONN) != 0) {
      last_error = strerror(errno);
      continue;
    }
    listen_fd_ = std::move(fd);
    break;
  }
  freeaddrinfo(res);
  if (listen_fd_.get() < 0) {
    return absl::UnavailableError(
        fmt::format("{}: cannot listen on {}: {}", options_.name, where, last_error));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  stop_fd_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (stop_fd_.get() < 0) return absl::InternalError(options_.name + ": cannot create an eventfd");
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  reaper_ = std::thread([this] { ReaperLoop(); });
  return absl::OkStatus();
}

void ProxyListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  const uint64_t one = 1;
  (void)!write(stop_fd_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  if (reaper_.joinable()) reaper_.join();
  listen_fd_.Reset();
  std::unique_lock<std::mutex> lock(mu_);
  // Connections whose factory is still running see stopping_ when they
  // hand their connection over (Serve) and shut down then.
  for (Slot& slot : slots_) {
    if (!slot.conn) continue;
    if (!slot.authenticated) slot.conn->AbortUnauthenticated();
    slot.conn->Shutdown();
  }
  if (!cv_.wait_for(lock, std::chrono::seconds(4), [this] { return live_ == 0; })) {
    spdlog::warn("{}: still waiting for {} connection(s) to end", options_.name, live_);
    cv_.wait(lock, [this] { return live_ == 0; });
  }
  JoinFinished(lock);
}

int ProxyListener::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

int ProxyListener::unauthenticated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unauthenticated_;
}

void ProxyListener::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("{}: poll failed: {}", options_.name, strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    UniqueFd fd(accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        spdlog::warn("{}: out of file descriptors; pausing accepts", options_.name);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    // A relay forwards each packet as it arrives: no Nagle delay (keystroke
    // echo) and no delayed-ACK stalls on bulk transfers.
    const int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string source = FormatPeer(&ss);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (live_ >= options_.max_connections || unauthenticated_ >= options_.max_unauthenticated) {
      spdlog::warn("{}: refusing {}: too many connections ({} live, {} unauthenticated)",
                   options_.name, source, live_, unauthenticated_);
      continue;  // fd closes
    }
    ++live_;
    ++unauthenticated_;
    Slot& slot = slots_.emplace_back();
    slot.deadline = clock_->Now() + options_.auth_timeout;
    try {
      slot.thread = std::thread(
          [this, s = &slot, f = std::move(fd), src = std::move(source)]() mutable {
            Serve(s, std::move(f), std::move(src));
          });
    } catch (const std::system_error& e) {
      spdlog::warn("{}: cannot start a connection thread: {}", options_.name, e.what());
      slots_.pop_back();
      --live_;
      --unauthenticated_;
    }
  }
}

void ProxyListener::Serve(Slot* slot, UniqueFd fd, std::string source) {
  auto authenticated = [this, slot] {
    std::lock_guard<std::mutex> lock(mu_);
    if (slot->authenticated) return;
    slot->authenticated = true;
    --unauthenticated_;
  };
  std::unique_ptr<ListenedConnection> conn = factory_(std::move(fd), source, authenticated);
  if (conn) {
    ListenedConnection* raw = conn.get();
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot->conn = std::move(conn);
      if (stopping_) {
        raw->AbortUnauthenticated();
        raw->Shutdown();
      }
    }
    raw->Run();
    std::unique_ptr<ListenedConnection> mine;
    {
      std::lock_guard<std::mutex> lock(mu_);
      mine = std::move(slot->conn);
    }
    mine.reset();  // on its own thread: protocol libraries want that
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!slot->authenticated) --unauthenticated_;
  --live_;
  slot->done = true;
  cv_.notify_all();
}

void ProxyListener::ReaperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.reap_interval);
    if (stopping_) break;
    const TimePoint now = clock_->Now();
    for (Slot& slot : slots_) {
      if (slot.conn && !slot.authenticated && !slot.aborted && now >= slot.deadline) {
        slot.aborted = true;
        spdlog::info("{}: closing a connection that did not authenticate within {} s",
                     options_.name, options_.auth_timeout.count());
        slot.conn->AbortUnauthenticated();
      }
    }
    JoinFinished(lock);
  }
}

void ProxyListener::JoinFinished(std::unique_lock<std::mutex>& lock) {
  std::list<Slot> finished;
  for (auto it = slots_.begin(); it != slots_.end();) {
    auto next = std::next(it);
    if (it->done) finished.splice(finished.end(), slots_, it);
    it = next;
  }
  if (finished.empty()) return;
  lock.unlock();
  for (Slot& slot : finished) {
    if (slot.thread.joinable()) slot.thread.join();
  }
  finished.clear();
  lock.lock();
}

}  // namespace portcullis::agentless
