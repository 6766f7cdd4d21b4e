// SPDX-License-Identifier: MIT
// Memory for large arrays that are read end to end on every request (internal).
#pragma once

#include <cstddef>

namespace tailor::detail {

/// Size of a transparent huge page (x86-64 and most AArch64 kernels).
inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

/// Allocates `bytes`; from `kHugePage` bytes up, aligned to a huge page and marked for
/// transparent huge pages where the system has them. A catalog's item factors (12.8 MB for 50,000
/// items × 64 floats) span thousands of 4 KiB pages, and scanning them costs a TLB miss per page;
/// on huge pages the same scan touches a handful.
/// @throws std::bad_alloc
void* allocate_large(std::size_t bytes);
/// Frees what allocate_large(bytes) returned, given the same `bytes`.
void free_large(void* p, std::size_t bytes) noexcept;

/// Marks the whole huge pages inside [p, p + bytes) for transparent huge pages where the system
/// has them: for memory another allocator gave (a reserved std::vector's) that is about to be
/// written end to end, so that filling it takes one page fault per huge page instead of 512.
/// Advice only; nothing changes where the system has no transparent huge pages.
void advise_huge_pages(void* p, std::size_t bytes) noexcept;

/// A std::allocator for vectors that are scanned whole: see allocate_large().
template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { free_large(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LargeAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const LargeAllocator<U>&) const noexcept {
    return false;
  }
};

}  // namespace tailor::detail
