#include "recorder/cast_reader.h"

#include <malloc.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/common/files.h"
#include "recorder/cast_search.h"
#include "recorder/utf8_json.h"
#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

const char kHeader[] =
    R"({"version": 2, "width": 100, "height": 30, "timestamp": 1700000000, "title": "bob: maint@rtu-01", )"
    R"("env": {"TERM": "xterm-256color"}, "portcullis": {"session_id": "s1", "channel": 2, "user": "bob", )"
    R"("login": "maint", "target": "rtu-01", "protocol": "ssh", "source": "127.0.0.1:5000", )"
    R"("command": "", "record_input": true, "started": "2023-11-14T22:13:20.000000Z"}})";

class CastReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& body) {
    std::string path = dir_.path() + "/" + std::to_string(n_++) + ".cast";
    EXPECT_TRUE(WriteFileAtomic(path, body, 0600).ok());
    return path;
  }
  std::vector<CastEvent> ReadAll(const std::string& path, absl::Status* end) {
    std::vector<CastEvent> out;
    auto r = CastReader::Open(path);
    if (!r.ok()) {
      *end = r.status();
      return out;
    }
    CastEvent ev;
    for (;;) {
      auto more = (*r)->Next(&ev);
      if (!more.ok()) {
        *end = more.status();
        return out;
      }
      if (!*more) break;
      out.push_back(ev);
    }
    *end = absl::OkStatus();
    return out;
  }
  testing::TempDir dir_;
  int n_ = 0;
};

TEST_F(CastReaderTest, ReadsHeaderAndEvents) {
  const std::string path = Write(std::string(kHeader) + "\n" +
                                 "[0.000000, \"m\", \"exec: ls\"]\n"
                                 "[0.5, \"o\", \"h\\u00e9llo \\ud83d\\ude00\\r\\n\"]\n"
                                 "[1.25, \"i\", \"ls\\r\"]\n"
                                 "[2.000001, \"r\", \"120x40\"]\n"
                                 "[1e1, \"o\", \"\\\"q\\\" \\\\ \\/\"]\n");
  auto r = CastReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  const CastHeader& h = (*r)->header();
  EXPECT_EQ(h.width, 100);
  EXPECT_EQ(h.height, 30);
  EXPECT_EQ(h.timestamp, 1700000000);
  EXPECT_EQ(h.term, "xterm-256color");
  EXPECT_EQ(h.recording_id(), "s1.2");
  EXPECT_EQ(h.user, "bob");
  EXPECT_TRUE(h.record_input);
  absl::Status end;
  auto evs = ReadAll(path, &end);
  ASSERT_TRUE(end.ok()) << end;
  ASSERT_EQ(evs.size(), 5u);
  EXPECT_EQ(evs[0].type, 'm');
  EXPECT_EQ(evs[0].data, "exec: ls");
  EXPECT_EQ(evs[1].micros, 500000);
  EXPECT_EQ(evs[1].data, "h\xc3\xa9llo \xf0\x9f\x98\x80\r\n");
  EXPECT_EQ(evs[2].type, 'i');
  EXPECT_EQ(evs[3].micros, 2000001);
  EXPECT_EQ(evs[3].data, "120x40");
  EXPECT_EQ(evs[4].micros, 10000000);
  EXPECT_EQ(evs[4].data, "\"q\" \\ /");
  const std::string first_event = "[0.000000, \"m\", \"exec: ls\"]\n";
  EXPECT_EQ(evs[1].offset, std::string(kHeader).size() + 1 + first_event.size());
}

TEST_F(CastReaderTest, RoundTripsTheEscaper) {
  std::mt19937 rng(7);
  std::string body = std::string(kHeader) + "\n";
  std::vector<std::string> want;
  for (int i = 0; i < 200; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string esc;
    AppendJsonEscaped(bytes, &esc);
    body += "[" + std::to_string(i) + ".5, \"o\", \"" + esc + "\"]\n";
    want.push_back(nlohmann::json::parse("\"" + esc + "\"").get<std::string>());
  }
  absl::Status end;
  auto evs = ReadAll(Write(body), &end);
  ASSERT_TRUE(end.ok()) << end;
  ASSERT_EQ(evs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(evs[i].data, want[i]) << i;
}

TEST_F(CastReaderTest, LastLineCutByACrashEndsCleanly) {
  absl::Status end;
  auto evs = ReadAll(Write(std::string(kHeader) + "\n[0.1, \"o\", \"a\"]\n[0.2, \"o\", \"b"), &end);
  EXPECT_TRUE(end.ok()) << end;
  ASSERT_EQ(evs.size(), 1u);
  // A complete last line without '\n' is still an event.
  evs = ReadAll(Write(std::string(kHeader) + "\n[0.1, \"o\", \"a\"]"), &end);
  EXPECT_TRUE(end.ok());
  EXPECT_EQ(evs.size(), 1u);
}

TEST_F(CastReaderTest, BadEventsNameTheirLineAndOffset) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"a\": 1}", "not a JSON array"},
      {"[-1, \"o\", \"x\"]", "time"},
      {"[nan, \"o\", \"x\"]", "time"},
      {"[1e300, \"o\", \"x\"]", "time"},
      {"[1, \"x\", \"x\"]", "type"},
      {"[1, \"o\", 5]", "data"},
      {"[1, \"o\", \"x\"] junk", "trailing"},
      {"[1, \"o\", \"\\ud800\"]", "data"},
      {"[1, \"o\", \"\xff\"]", "data"},
      {"[1, \"o\", \"a\tb\"]", "data"},
      {"[1, \"o\", \"\\q\"]", "data"},
  };
  for (const auto& [line, why] : cases) {
    absl::Status end;
    ReadAll(Write(std::string(kHeader) + "\n[0.1, \"o\", \"ok\"]\n" + line + "\n[2, \"o\", \"z\"]\n"),
            &end);
    ASSERT_FALSE(end.ok()) << line;
    EXPECT_NE(std::string(end.message()).find("line 3 at byte"), std::string::npos) << end;
    EXPECT_NE(std::string(end.message()).find(why), std::string::npos) << line << ": " << end;
  }
}

TEST_F(CastReaderTest, BadHeadersAreRefused) {
  for (const std::string& h :
       {std::string("garbage"), std::string("{\"version\": 1, \"width\": 80, \"height\": 24}"),
        std::string("{\"version\": 2, \"width\": 0, \"height\": 24}"),
        std::string("{\"version\": 2, \"width\": 80}"),
        std::string("{\"version\": 2, \"width\": 80, \"height\": 24, \"portcullis\": 3}"),
        std::string("")}) {
    auto r = CastReader::Open(Write(h + "\n"));
    EXPECT_FALSE(r.ok()) << h;
  }
}

TEST_F(CastReaderTest, CapsFileAndLineSizes) {
  const std::string path = Write(std::string(kHeader) + "\n[0.1, \"o\", \"" +
                                 std::string(5000, 'x') + "\"]\n");
  CastLimits small;
  small.max_file_bytes = 1000;
  auto r = CastReader::Open(path, small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("larger than the cap of 1000 bytes"),
            std::string::npos);
  CastLimits short_lines;
  short_lines.max_event_bytes = 1000;
  auto r2 = CastReader::Open(path, short_lines);
  ASSERT_TRUE(r2.ok());
  CastEvent ev;
  auto more = (*r2)->Next(&ev);
  ASSERT_FALSE(more.ok());
  EXPECT_NE(std::string(more.status().message()).find("longer than 1000 bytes"), std::string::npos);
}

// Heap bytes in use, as glibc's allocator counts them (mmapped blocks too).
size_t HeapInUse() {
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

TEST_F(CastReaderTest, ASmallRecordingIsReadWithASmallBuffer) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under AddressSanitizer the heap is not glibc's, so mallinfo2 cannot see it";
#endif
  const std::string path = Write(std::string(kHeader) + "\n[0.1, \"o\", \"a\"]\n[0.2, \"o\", \"b\"]\n");
  const size_t before = HeapInUse();
  auto r = CastReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  CastEvent ev;
  int events = 0;
  while (*(*r)->Next(&ev)) ++events;
  EXPECT_EQ(events, 2);
  // The reader is still open, holding its buffer: a file of a few hundred
  // bytes needs a few KiB, not a 1 MiB block per read.
  const size_t held = HeapInUse() - before;
  EXPECT_LT(held, size_t{64} << 10) << "reader holds " << held << " bytes for a "
                                    << (*r)->file_size() << "-byte file";
}

TEST_F(CastReaderTest, LinesLongerThanAReadBlockAreRead) {
  // A 3 MiB event spans several 1 MiB reads; the events around it stay whole.
  const std::string big(3u << 20, 'x');
  const std::string last = "[0.3, \"o\", \"c\"]\n";
  const std::string body =
      std::string(kHeader) + "\n[0.1, \"o\", \"a\"]\n[0.2, \"o\", \"" + big + "\"]\n" + last;
  absl::Status end;
  auto events = ReadAll(Write(body), &end);
  ASSERT_TRUE(end.ok()) << end;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, big);
  EXPECT_EQ(events[2].data, "c");
  EXPECT_EQ(events[2].offset, body.size() - last.size());
}

TEST_F(CastReaderTest, ReadsLinesAppendedAfterOpen) {
  // A live recording grows past the size the reader saw at Open.
  const std::string path = Write(std::string(kHeader) + "\n[0.1, \"o\", \"a\"]\n");
  auto r = CastReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string grown(10000, 'g');
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << "[0.2, \"o\", \"" << grown << "\"]\n[0.3, \"o\", \"c\"]\n";
  }
  CastEvent ev;
  std::vector<std::string> data;
  while (*(*r)->Next(&ev)) data.push_back(ev.data);
  EXPECT_EQ(data, (std::vector<std::string>{"a", grown, "c"}));
}

TEST_F(CastReaderTest, SeeksToALineStart) {
  const std::string first = "[0.1, \"o\", \"a\"]\n";
  const std::string path =
      Write(std::string(kHeader) + "\n" + first + "[0.2, \"o\", \"b\"]\n[0.3, \"o\", \"c\"]\n");
  auto r = CastReader::Open(path);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)->Seek((*r)->header_line().size() + first.size()).ok());
  CastEvent ev;
  ASSERT_TRUE(*(*r)->Next(&ev));
  EXPECT_EQ(ev.data, "b");
  EXPECT_FALSE((*r)->Seek(3).ok());
}

TEST_F(CastReaderTest, SearchFindsTextAcrossEventsAndEscapes) {
  const std::string path = Write(
      std::string(kHeader) + "\n" +
      "[1.0, \"o\", \"$ \"]\n"
      // typed command echoed key by key
      "[2.0, \"o\", \"s\"]\n[2.1, \"o\", \"y\"]\n[2.2, \"o\", \"s\"]\n[2.3, \"o\", \"temctl st\"]\n"
      "[2.4, \"o\", \"xx\\b\\b\"]\n[2.5, \"o\", \"op plc\\r\\n\"]\n"
      // coloured output with the words split by escapes
      "[7.0, \"o\", \"\\u001b[1;31msystemctl\\u001b[0m \\u001b]0;title\\u0007stop done\\r\\n\"]\n"
      "[9.0, \"i\", \"systemctl stop x\\r\"]\n");
  std::vector<SearchHit> hits;
  auto st = SearchRecording(path, "systemctl stop", [&](const SearchHit& h) { hits.push_back(h); });
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].micros, 2500000);
  EXPECT_EQ(hits[0].stream, 'o');
  EXPECT_NE(hits[0].context.find("$ systemctl stop plc"), std::string::npos) << hits[0].context;
  EXPECT_EQ(hits[1].micros, 7000000);
  EXPECT_EQ(hits[2].stream, 'i');
  hits.clear();
  ASSERT_TRUE(SearchRecording(path, "systemctl stop", [&](const SearchHit& h) { hits.push_back(h); },
                              /*max_hits=*/1)
                  .ok());
  EXPECT_EQ(hits.size(), 1u);
  EXPECT_FALSE(SearchRecording(path, "", [](const SearchHit&) {}).ok());
}

}  // namespace
}  // namespace portcullis::recorder
