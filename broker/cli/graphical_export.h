#pragma once
// `portcullis recordings export ID|FILE --format mp4|webm|png [--at T] -o OUT`
// for graphical recordings (VNC, RDP): the recording is fetched from the
// broker (read as an export: admins and auditors, audited there; its bytes
// checked against the sealed SHA-256) into an unlinked temporary file, or
// read from a local .pgr FILE, then exported by recorder/export. A
// progress bar is drawn on stderr when it is a terminal; Ctrl-C cancels
// and leaves no file. Single-threaded (installs a SIGINT handler while it
// runs).

#include <string>

#include "broker/cli/cli_context.h"

namespace portcullis::cli {

struct GraphicalExportArgs {
  std::string what;    // recording ID, or a .pgr FILE
  std::string format;  // "mp4", "webm" or "png"
  std::string at;      // png: seconds, MM:SS or HH:MM:SS
  std::string out;
  bool force = false;  // overwrite `out`
};

// The exit code: 0, kExitUsage for bad arguments, 130 when cancelled,
// kExitError otherwise (after printing why).
int ExportGraphicalRecording(CliContext& ctx, const GraphicalExportArgs& args);

}  // namespace portcullis::cli
