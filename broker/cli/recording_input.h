#pragma once
// `portcullis recordings input ID|FILE`: what the user of a graphical
// session (VNC, RDP) typed and clicked, from its recording: the keystroke
// and click log (time, key or button, position; clipboard lengths and
// hashes), then the typed text. Through the broker (ID; the recording is
// read as an export: admins and auditors, audited there) or from a local
// .pgr FILE. Single-threaded.

#include <string>

#include "broker/cli/cli_context.h"

namespace portcullis::cli {

// Prints the log of ID or FILE (JSON with `json`); returns the exit code.
int ShowRecordingInput(CliContext& ctx, const std::string& id_or_file, bool json);

}  // namespace portcullis::cli
