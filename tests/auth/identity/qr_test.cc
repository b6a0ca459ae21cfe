#include "auth/identity/qr.h"

#include <qrencode.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace portcullis::auth {
namespace {

// Splits the rendering into lines of code points (each a UTF-8 string).
std::vector<std::vector<std::string>> Cells(const std::string& text) {
  std::vector<std::vector<std::string>> lines(1);
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\n') {
      lines.emplace_back();
      ++i;
      continue;
    }
    size_t n = static_cast<unsigned char>(text[i]) < 0x80 ? 1 : 3;
    lines.back().push_back(text.substr(i, n));
    i += n;
  }
  EXPECT_TRUE(lines.back().empty()) << "output must end with a newline";
  lines.pop_back();
  return lines;
}

// The module matrix libqrencode produces for `text` (true = dark).
std::vector<std::vector<bool>> Reference(const std::string& text) {
  QRcode* q = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  std::vector<std::vector<bool>> m(q->width, std::vector<bool>(q->width));
  for (int r = 0; r < q->width; ++r)
    for (int c = 0; c < q->width; ++c) m[r][c] = q->data[r * q->width + c] & 1;
  QRcode_free(q);
  return m;
}

TEST(QrTest, RendersAnOtpauthUriWithExpectedGeometry) {
  const std::string uri =
      "otpauth://totp/Portcullis:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
      "&issuer=Portcullis&algorithm=SHA1&digits=6&period=30";
  auto out = RenderQrForTerminal(uri);
  ASSERT_TRUE(out.ok()) << out.status();
  auto ref = Reference(uri);
  const size_t width = ref.size();
  ASSERT_EQ((width - 17) % 4, 0u);  // a real QR version
  const size_t size = width + 2 * kQrQuietZoneModules;
  auto lines = Cells(*out);
  EXPECT_EQ(lines.size(), (size + 1) / 2);
  for (const auto& line : lines) EXPECT_EQ(line.size(), size);
}

TEST(QrTest, DecodesBackToTheLibqrencodeMatrix) {
  const std::string text = "otpauth://totp/ACME:bob?secret=JBSWY3DPEHPK3PXP&issuer=ACME";
  auto out = RenderQrForTerminal(text);
  ASSERT_TRUE(out.ok());
  auto ref = Reference(text);
  const int q = kQrQuietZoneModules;
  const int size = static_cast<int>(ref.size()) + 2 * q;
  auto lines = Cells(*out);
  auto dark_at = [&](int r, int c) {
    if (r < q || c < q || r >= size - q || c >= size - q) return false;  // quiet zone is light
    return static_cast<bool>(ref[r - q][c - q]);
  };
  for (int r = 0; r < size; ++r) {
    for (int c = 0; c < size; ++c) {
      const std::string& cell = lines[r / 2][c];
      bool top_light = cell == "\u2588" || cell == "\u2580";
      bool bottom_light = cell == "\u2588" || cell == "\u2584";
      bool light = (r % 2 == 0) ? top_light : bottom_light;
      ASSERT_EQ(light, !dark_at(r, c)) << "module row " << r << " col " << c;
    }
  }
  // The row below an odd final module row is blank (no light half).
  if (size % 2 == 1) {
    for (const auto& cell : lines.back()) EXPECT_TRUE(cell == "\u2580" || cell == " ");
  }
}

TEST(QrTest, LongerInputGivesALargerSymbol) {
  auto small = RenderQrForTerminal("hi");
  auto large = RenderQrForTerminal(std::string(500, 'x'));
  ASSERT_TRUE(small.ok() && large.ok());
  EXPECT_LT(Cells(*small).size(), Cells(*large).size());
}

TEST(QrTest, AcceptsTheMaximumAndRefusesMore) {
  EXPECT_TRUE(RenderQrForTerminal(std::string(2000, 'a')).ok());
  auto too_long = RenderQrForTerminal(std::string(2001, 'a'));
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(QrTest, RefusesEmptyAndNul) {
  EXPECT_EQ(RenderQrForTerminal("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderQrForTerminal(std::string("a\0b", 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace portcullis::auth
