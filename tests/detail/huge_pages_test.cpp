// SPDX-License-Identifier: MIT
// The allocator for arrays scanned whole: alignment, small blocks, impossible sizes.
#include "detail/huge_pages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <new>
#include <numeric>
#include <vector>

namespace tailor {
namespace {

TEST(DetailLargeAllocator, LargeBlocksAreHugePageAlignedAndSmallOnesWork) {
  std::vector<float, detail::LargeAllocator<float>> large(detail::kHugePage / sizeof(float) + 10,
                                                          1.0f);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large.data()) % detail::kHugePage, 0u);
  EXPECT_EQ(std::accumulate(large.begin(), large.end(), 0.0), static_cast<double>(large.size()));
  std::vector<float, detail::LargeAllocator<float>> small(100, 2.0f);
  small.push_back(3.0f);
  EXPECT_EQ(small.back(), 3.0f);
  large = small;  // a small block replacing a large one frees the large one the right way
  EXPECT_EQ(large.size(), 101u);
}

TEST(DetailLargeAllocator, ImpossibleSizesThrowInsteadOfWrappingAround) {
  // Rounding these up to a whole huge page would overflow to a tiny block.
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  EXPECT_THROW(detail::allocate_large(max), std::bad_alloc);
  EXPECT_THROW(detail::allocate_large(max - detail::kHugePage / 2), std::bad_alloc);
}

}  // namespace
}  // namespace tailor
