#pragma once
// `portcullis recordings play | export | verify`: the parts that move a
// recording's bytes, through the broker (an ID) or from a local file (a
// FILE, verified and played with no broker at all). Each returns the CLI
// exit code after printing what happened. Single-threaded.

#include <string>

#include "broker/cli/cli_context.h"
#include "broker/cli/recording_player.h"

namespace portcullis::cli {

// True if `arg` names a file rather than a recording ID: it contains '/',
// or ends with a file extension (IDs are "<session>.<channel>", so their
// last part is all digits): "x.cast", "x.manifest.json".
bool LooksLikeFile(const std::string& arg);

// Replays ID (streamed from the broker, audited there) or FILE to stdout.
int PlayRecording(CliContext& ctx, const std::string& id_or_file, const PlayOptions& options);

// Writes ID's recording to `out` (which must end in ".cast") and its seal
// files beside it (".manifest.json" + ".manifest.sig", or ".seal" for a
// truncated recording), all 0600. Existing files are refused unless `force`.
int ExportRecording(CliContext& ctx, const std::string& id, const std::string& out, bool force);

// Verifies ID with the broker, or FILE locally with the public key from
// `key_path`, else $PORTCULLIS_HOME/recording-key.pem (saved at login).
// FILE is the recording (any format) or its manifest (".manifest.json" or
// ".manifest.sig"), which names the recording beside it.
// Prints the one-line verdict; exit 0 VALID, 4 TRUNCATED, 3 INVALID.
int VerifyRecordingCommand(CliContext& ctx, const std::string& id_or_file,
                           const std::string& key_path);

}  // namespace portcullis::cli
