// SPDX-License-Identifier: MIT
// Bitmap set operations and resizing.
#include "tailor/bitmap.hpp"

#include <gtest/gtest.h>

namespace tailor {
namespace {

TEST(DetailBitmap, SetOperationsAndResize) {
  Bitmap a(130), b(130, true);
  a.set(0);
  a.set(129);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(b.count(), 130u);
  b.subtract(a);
  EXPECT_EQ(b.count(), 128u);
  EXPECT_FALSE(b.test(129));
  Bitmap c = b;
  c &= a;
  EXPECT_EQ(c.count(), 0u);
  c |= a;
  EXPECT_EQ(c, a);
  a.resize(200, true);
  EXPECT_EQ(a.count(), 72u);
  EXPECT_TRUE(a.test(199));
  a.resize(10);
  EXPECT_EQ(a.count(), 1u);
  a.fill(true);
  EXPECT_EQ(a.count(), 10u);
  Bitmap d(70);
  d.set_if(3, true);
  d.set_if(4, false);
  d.set_if(69, true);
  EXPECT_TRUE(d.test(3));
  EXPECT_FALSE(d.test(4));
  EXPECT_EQ(d.count(), 2u);
}

}  // namespace
}  // namespace tailor
