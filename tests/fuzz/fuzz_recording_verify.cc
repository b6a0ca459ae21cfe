// Fuzzes the offline verifier (recorder/verifier.h) end to end on files.
// Input: one flags byte, then up to four parts separated by "\n--8<--\n":
// the recording, its manifest, the manifest signature and the seal. Flag
// bits: 0 re-sign the manifest with the fixed key, 1 re-sign every complete
// seal line with it (so the fuzzer gets past the signatures), 2 a 1 KiB
// size cap, 3/4/5 the manifest/signature/seal file exists, 6 verify from
// the manifest (which names the recording) instead of from the recording.
// The verifier never parses the recording, so its part is any bytes.
// Properties: never a crash; the message is one line starting with the
// verdict; VALID and TRUNCATED only with a proven prefix inside the file.
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "broker/common/encoding.h"
#include "broker/common/openssl_handles.h"
#include "recorder/verifier.h"
#include "tests/fuzz/fuzz_scratch.h"

using namespace portcullis;
using namespace portcullis::recorder;

namespace {

constexpr std::string_view kSplit = "\n--8<--\n";

const EVP_PKEY* Key() {
  static EVP_PKEY* key = [] {
    unsigned char seed[32];
    for (int i = 0; i < 32; ++i) seed[i] = static_cast<unsigned char>(i * 7 + 1);
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, sizeof seed);
  }();
  return key;
}

std::string PublicRaw() {
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(Key(), raw, &len) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(raw), len);
}

std::string Sign(std::string_view data) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                                 const_cast<EVP_PKEY*>(Key())) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(sig), len);
}

// Replaces the signature of every complete line that has one.
std::string ResignSeal(std::string_view seal) {
  std::string out;
  size_t start = 0;
  for (size_t nl; (nl = seal.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    std::string_view line = seal.substr(start, nl - start);
    const size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) {
      out.append(line);
    } else {
      out.append(line.substr(0, sp + 1));
      out += Base64Encode(Sign(line.substr(0, sp)));
    }
    out.push_back('\n');
  }
  out.append(seal.substr(start));
  return out;
}

void Put(const std::string& path, bool present, std::string_view data) {
  ::unlink(path.c_str());
  if (!present) return;
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

const std::string& Dir() { return portcullis::fuzz::ScratchDir(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> parts;
  for (size_t at; parts.size() < 3 && (at = rest.find(kSplit)) != std::string_view::npos;) {
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + kSplit.size());
  }
  parts.push_back(rest);
  parts.resize(4);

  VerifyRequest req;
  const RecordingPaths paths = PathsFor(Dir() + "/s.0.cast");
  if (flags & 64) {
    req.manifest_path = paths.manifest;
  } else {
    req.recording_path = paths.recording;
  }
  req.public_key_raw = PublicRaw();
  if (flags & 4) req.max_recording_bytes = 1024;
  const std::string manifest(parts[1]);
  Put(paths.recording, true, parts[0]);
  Put(paths.manifest, flags & 8, manifest);
  Put(paths.signature, flags & 16, (flags & 1) ? Sign(manifest) : std::string(parts[2]));
  Put(paths.seal, flags & 32, (flags & 2) ? ResignSeal(parts[3]) : std::string(parts[3]));

  const VerifyReport r = VerifyRecording(req);
  // PC_FUZZ_PRINT=1 shows each input's verdict (to check the seeds).
  if (std::getenv("PC_FUZZ_PRINT") != nullptr) std::fprintf(stderr, "%s\n", r.message.c_str());
  const std::string verdict = VerdictName(r.verdict);
  if (r.message.compare(0, verdict.size(), verdict) != 0) std::abort();
  if (r.message.find('\n') != std::string::npos) std::abort();
  if (r.verdict != Verdict::kInvalid && r.valid_bytes > r.file_size) std::abort();
  if (r.verdict == Verdict::kValid && (!r.manifest || r.valid_bytes != r.file_size)) std::abort();
  return 0;
}
