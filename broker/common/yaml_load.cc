#include "broker/common/yaml_load.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <exception>
#include <sstream>

#include "broker/common/printable.h"

namespace portcullis {
namespace {

// At most this many documents per stream (a 256 KiB role file holds far
// fewer real roles); also bounds the pre-pass should another no-progress
// loop exist.
constexpr int kMaxDocuments = 4096;

class ProgressCheck final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_ > 0 && mark.pos <= last_pos_) {
      stuck_ = true;
      stuck_line_ = mark.line + 1;
    }
    last_pos_ = mark.pos;
    ++documents_;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  bool stuck() const { return stuck_; }
  int stuck_line() const { return stuck_line_; }
  int documents() const { return documents_; }

 private:
  int documents_ = 0;
  int last_pos_ = -1;
  bool stuck_ = false;
  int stuck_line_ = 1;
};

int LineOf(const YAML::Mark& m) { return m.line >= 0 ? m.line + 1 : 1; }

}  // namespace

bool LoadAllYaml(const std::string& text, std::vector<YAML::Node>* docs, YamlLoadError* error) {
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    ProgressCheck check;
    while (parser.HandleNextDocument(check)) {
      if (check.stuck()) {
        *error = {check.stuck_line(), "malformed YAML: unexpected token outside any node"};
        return false;
      }
      if (check.documents() > kMaxDocuments) {
        *error = {1, fmt::format("too many YAML documents (max {})", kMaxDocuments)};
        return false;
      }
    }
    *docs = YAML::LoadAll(text);
    return true;
  } catch (const YAML::Exception& e) {
    *error = {LineOf(e.mark), fmt::format("malformed YAML: {}", Printable(e.msg, 160))};
  } catch (const std::exception& e) {
    *error = {1, fmt::format("cannot parse YAML: {}", Printable(e.what(), 160))};
  }
  return false;
}

}  // namespace portcullis
