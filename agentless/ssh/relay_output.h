#pragma once
// RelayOutput: what the SSH relay does with the bytes it has just fed to a
// file-transfer auditor (SftpAuditor, ScpAuditor). The auditors are filters:
// bytes reach the other side only once they have been audited, so nothing
// the auditor has not seen (and, for SFTP, allowed) is ever delivered, and
// every audit event describes bytes that were delivered.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace portcullis::ssh {

struct RelayOutput {
  // Audited bytes to write to the target / to the client, in order. They may
  // be empty (bytes held until the protocol allows reading them) and may
  // include bytes fed earlier. The views point into the chunk just fed or
  // into the auditor: write them out before the next call on that auditor
  // and while the chunk is alive.
  std::vector<std::string_view> to_server;
  std::vector<std::string_view> to_client;
  // Not OK: the stream can no longer be audited (bad framing, malformed or
  // oversized message, protocol violation, caps exceeded). Deliver what is
  // above (audited before the fault), then close the session and call
  // Finish(). Sticky: later calls return the same status and no bytes.
  absl::Status status;

  bool ok() const { return status.ok(); }
};

}  // namespace portcullis::ssh
