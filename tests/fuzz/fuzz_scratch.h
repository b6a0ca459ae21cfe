#pragma once
// A scratch directory for fuzz targets that must hand a parser a file: on
// tmpfs (/dev/shm) when there is one, so that rewriting a file for every
// input costs no disk I/O (on ext4, truncating and rewriting a file starts
// writeback each time), else under $TMPDIR or /tmp. Created on first use,
// removed with its files at exit. Single-threaded, as libFuzzer runs inputs.
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace portcullis::fuzz {

inline std::string& ScratchDirName() {
  static std::string dir;
  return dir;
}

inline void RemoveScratchDir() {
  const std::string& dir = ScratchDirName();
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") ::unlink((dir + "/" + name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

inline const std::string& ScratchDir() {
  std::string& dir = ScratchDirName();
  if (!dir.empty()) return dir;
  const char* tmp = std::getenv("TMPDIR");
  for (std::string base : {std::string("/dev/shm"), std::string(tmp != nullptr ? tmp : "/tmp"),
                           std::string("/tmp")}) {
    std::string templ = base + "/pc-fuzz-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) {
      dir = templ;
      std::atexit(RemoveScratchDir);
      return dir;
    }
  }
  std::abort();
}

}  // namespace portcullis::fuzz
