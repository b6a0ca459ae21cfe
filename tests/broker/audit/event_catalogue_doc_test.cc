// The operator guide's event table (docs/operator-guide.md, section 10)
// must list exactly the catalogue's event types, each with its outcomes and
// detail keys. The table is generated: on a mismatch this test prints the
// table to paste between the markers.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "broker/audit/event_catalogue.h"

namespace portcullis::audit {
namespace {

constexpr std::string_view kBegin = "<!-- audit event catalogue: begin";
constexpr std::string_view kEnd = "<!-- audit event catalogue: end";
constexpr std::string_view kHeader =
    "| type | actor | subject | outcome | details | what it records |";

std::string Code(std::string_view s) { return "`" + std::string(s) + "`"; }

// The "details" cell: `key`: type, optional ones in brackets.
std::string DetailsCell(const EventSpec& s) {
  if (s.details.empty()) return "—";
  std::string out;
  for (const DetailKey& k : s.details) {
    if (!out.empty()) out += ", ";
    std::string one = Code(k.name) + ": " + std::string(JsonTypeName(k.type));
    out += k.required ? one : "[" + one + "]";
  }
  return out;
}

std::string OutcomeCell(const EventSpec& s) {
  std::string out;
  for (std::string_view o : s.outcomes) {
    if (!out.empty()) out += ", ";
    out += Code(o);
  }
  return out;
}

std::string Row(const EventSpec& s) {
  return "| " + Code(s.type) + " | " + std::string(s.actor) + " | " + std::string(s.subject) +
         " | " + OutcomeCell(s) + " | " + DetailsCell(s) + " | " + std::string(s.description) +
         " |";
}

std::string ExpectedTable() {
  std::string t = std::string(kHeader) + "\n|---|---|---|---|---|---|\n";
  for (const EventSpec& s : EventCatalogue()) t += Row(s) + "\n";
  return t;
}

// The table's rows by type, as written in the guide.
struct GuideTable {
  bool found = false;
  std::string header;
  std::map<std::string, std::string> rows;  // type -> whole row
  std::vector<std::string> order;
};

GuideTable ReadGuideTable() {
  std::ifstream in(std::string(PC_SOURCE_DIR) + "/docs/operator-guide.md");
  GuideTable g;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind(kBegin, 0) == 0) {
      inside = true;
      g.found = true;
      continue;
    }
    if (!inside) continue;
    if (line.rfind(kEnd, 0) == 0) break;
    if (line.rfind("|", 0) != 0) continue;
    if (g.header.empty()) {
      g.header = line;
      continue;
    }
    if (line.rfind("|---", 0) == 0) continue;
    // "| `type` | ..."
    const size_t a = line.find('`');
    const size_t b = a == std::string::npos ? a : line.find('`', a + 1);
    if (b == std::string::npos) {
      g.rows["(unparsable) " + line] = line;
      continue;
    }
    const std::string type = line.substr(a + 1, b - a - 1);
    g.rows[type] = line;
    g.order.push_back(type);
  }
  return g;
}

TEST(EventCatalogueDocTest, GuideListsExactlyTheCatalogue) {
  const GuideTable g = ReadGuideTable();
  ASSERT_TRUE(g.found) << "docs/operator-guide.md has no '" << kBegin << "' marker";
  EXPECT_EQ(g.header, kHeader);
  std::set<std::string> catalogue;
  for (const EventSpec& s : EventCatalogue()) {
    catalogue.insert(std::string(s.type));
    auto row = g.rows.find(std::string(s.type));
    if (row == g.rows.end()) {
      ADD_FAILURE() << "the guide does not list " << s.type;
      continue;
    }
    EXPECT_EQ(row->second, Row(s)) << "the guide's row for " << s.type << " differs";
  }
  for (const auto& [type, row] : g.rows) {
    EXPECT_TRUE(catalogue.count(type)) << "the guide lists " << type
                                       << ", which the catalogue does not have";
  }
  EXPECT_EQ(g.order.size(), g.rows.size()) << "a type is listed twice";
  EXPECT_EQ(g.order, std::vector<std::string>(catalogue.begin(), catalogue.end()))
      << "the rows are not in the catalogue's (alphabetical) order";
  if (HasFailure()) {
    ADD_FAILURE() << "the table to put between the markers in docs/operator-guide.md:\n"
                  << ExpectedTable();
  }
}

}  // namespace
}  // namespace portcullis::audit
