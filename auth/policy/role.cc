#include "auth/policy/role.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "absl/status/status.h"
#include "broker/common/printable.h"

namespace portcullis::policy {
namespace {


bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || IsDigit(c); }

// Hostname per RFC 1123: dot-separated labels of [a-z0-9-], 1..63 bytes, no
// leading/trailing '-', at most 253 bytes, and not all-numeric in the last
// label (so a malformed IPv4 address is not taken for a name).
bool IsValidHostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  bool last_all_digits = false;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string_view::npos) end = h.size();
    std::string_view label = h.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    last_all_digits = true;
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') return false;
      if (!IsDigit(c)) last_all_digits = false;
    }
    start = end + 1;
  }
  return !last_all_digits;
}

absl::Status BadTunnel(std::string_view s, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("bad tunnel '{}': {} (want HOST:PORT or [IPV6]:PORT)", Printable(s), why));
}

}  // namespace

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kSsh: return "ssh";
    case Protocol::kRdp: return "rdp";
    case Protocol::kVnc: return "vnc";
    case Protocol::kTcp: return "tcp";
  }
  return "?";
}

absl::StatusOr<Protocol> ParseProtocol(std::string_view s) {
  for (Protocol p : {Protocol::kSsh, Protocol::kRdp, Protocol::kVnc, Protocol::kTcp}) {
    if (s == ProtocolName(p)) return p;
  }
  return absl::InvalidArgumentError(
      fmt::format("unknown protocol '{}' (expected one of: ssh, rdp, vnc, tcp)", Printable(s)));
}

std::string_view FileTransferName(FileTransfer f) {
  switch (f) {
    case FileTransfer::kNone: return "none";
    case FileTransfer::kDownload: return "download";
    case FileTransfer::kUpload: return "upload";
    case FileTransfer::kBoth: return "both";
  }
  return "?";
}

absl::StatusOr<FileTransfer> ParseFileTransfer(std::string_view s) {
  for (FileTransfer f : {FileTransfer::kNone, FileTransfer::kDownload, FileTransfer::kUpload,
                         FileTransfer::kBoth}) {
    if (s == FileTransferName(f)) return f;
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown file_transfer '{}' (expected one of: none, download, upload, both)", Printable(s)));
}

std::string_view ClipboardName(Clipboard c) {
  switch (c) {
    case Clipboard::kNone: return "none";
    case Clipboard::kToTarget: return "to_target";
    case Clipboard::kFromTarget: return "from_target";
    case Clipboard::kBoth: return "both";
  }
  return "?";
}

absl::StatusOr<Clipboard> ParseClipboard(std::string_view s) {
  for (Clipboard c :
       {Clipboard::kNone, Clipboard::kToTarget, Clipboard::kFromTarget, Clipboard::kBoth}) {
    if (s == ClipboardName(c)) return c;
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown clipboard '{}' (expected one of: none, to_target, from_target, both)",
      Printable(s)));
}

std::string_view TransferDirectionName(TransferDirection d) {
  return d == TransferDirection::kDownload ? "download" : "upload";
}

bool TransferPermitted(FileTransfer granted, TransferDirection dir) {
  switch (granted) {
    case FileTransfer::kNone: return false;
    case FileTransfer::kDownload: return dir == TransferDirection::kDownload;
    case FileTransfer::kUpload: return dir == TransferDirection::kUpload;
    case FileTransfer::kBoth: return true;
  }
  return false;
}

bool SelectorMatches(const LabelSelector& sel, const std::map<std::string, std::string>& labels) {
  if (sel.empty()) return false;
  if (sel.size() == 1 && sel.begin()->first == kMatchAll && sel.begin()->second == kMatchAll) {
    return true;
  }
  for (const auto& [key, want] : sel) {
    auto it = labels.find(key);
    if (it == labels.end()) return false;
    if (want != kMatchAll && it->second != want) return false;
  }
  return true;
}

std::string FormatSelector(const LabelSelector& sel) {
  std::string out = "{";
  for (const auto& [key, value] : sel) {
    if (out.size() > 1) out += ", ";
    out += Printable(key);
    out += '=';
    out += Printable(value);
  }
  out += '}';
  return out;
}

bool IsValidRoleName(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidLabelKey(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '.' && c != '_' && c != '/' && c != '-') return false;
  }
  return true;
}

bool IsValidLabelValue(std::string_view s) { return IsValidLabelKey(s); }

bool IsValidLogin(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(IsAlpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

absl::StatusOr<std::string> NormalizeTunnel(std::string_view s) {
  if (s.empty() || s.size() > 300) return BadTunnel(s, "empty or too long");
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return BadTunnel(s, "missing ']:PORT'");
    }
    host = s.substr(1, close - 1);
    port_text = s.substr(close + 2);
    bracketed = true;
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return BadTunnel(s, "missing ':PORT'");
    host = s.substr(0, colon);
    port_text = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return BadTunnel(s, "IPv6 addresses must be in brackets");
    }
  }
  if (port_text.empty() || port_text.size() > 5) return BadTunnel(s, "bad port");
  int port = 0;
  for (char c : port_text) {
    if (!IsDigit(c)) return BadTunnel(s, "bad port");
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return BadTunnel(s, "port must be 1..65535");
  if (host.empty()) return BadTunnel(s, "empty host");

  std::string host_str(host);
  char buf[INET6_ADDRSTRLEN];
  if (bracketed) {
    in6_addr a6;
    if (inet_pton(AF_INET6, host_str.c_str(), &a6) != 1 ||
        inet_ntop(AF_INET6, &a6, buf, sizeof(buf)) == nullptr) {
      return BadTunnel(s, "bad IPv6 address");
    }
    return fmt::format("[{}]:{}", buf, port);
  }
  in_addr a4;
  if (inet_pton(AF_INET, host_str.c_str(), &a4) == 1) {
    if (inet_ntop(AF_INET, &a4, buf, sizeof(buf)) == nullptr) return BadTunnel(s, "bad address");
    return fmt::format("{}:{}", buf, port);
  }
  for (char& c : host_str) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!IsValidHostname(host_str)) return BadTunnel(s, "bad host name or IPv4 address");
  return fmt::format("{}:{}", host_str, port);
}

}  // namespace portcullis::policy
