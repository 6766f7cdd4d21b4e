// SPDX-License-Identifier: MIT
// IdMap: external string ids <-> dense indices, both ways, in little memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/detail/bits.hpp"
#include "tailor/export.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {
struct DataAccess;
}  // namespace detail

/// Interns strings to dense indices 0, 1, 2, ... in order of first insertion.
///
/// Strings live in one contiguous buffer; lookups use an open-addressing hash table whose slots
/// also hold the first 8 bytes of the id, so ids of up to 8 bytes are found without touching the
/// buffer (one cache miss per lookup). Memory is about (length + 40) bytes per id.
///
/// An id can be erased (forgotten): its index stays taken, so every other id keeps its index,
/// but its characters are gone, find() no longer finds it and inserting the same string again
/// gives a new index.
///
/// Users read IdMaps (a DatasetGroup's user, item and event-type ids, a categorical column's
/// dictionary); only the library inserts and erases ids.
///
/// Thread safety: const members may be called concurrently.
class TAILOR_EXPORT IdMap {
 public:
  /// Number of indices given out, erased ones included.
  Index size() const { return static_cast<Index>(ends_.size()); }
  bool empty() const { return ends_.empty(); }
  /// Index of `id`, or kNoIndex when it is unknown.
  Index find(std::string_view id) const;
  /// The id with index `i` (i < size()); empty for an erased index.
  std::string_view name(Index i) const {
    std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(chars_.data() + begin, ends_[i] - begin);
  }
  /// Whether index `i` was erased.
  bool is_erased(Index i) const { return i < erased_.size() && erased_.test(i); }
  /// The erased indices as bits; indices at or past its size() are not erased.
  const Bitmap& erased() const { return erased_; }
  /// Number of erased indices.
  std::size_t erased_count() const { return erased_count_; }
  /// Bytes of heap memory held.
  std::size_t memory_bytes() const;

  /// 64-bit hash of a string, as used by the table (exposed for tests and other tables).
  static std::uint64_t hash(std::string_view s) noexcept;

 private:
  // Mutation is the library's (through detail::DataAccess); external synchronisation against
  // every other call is the caller's.
  friend struct detail::DataAccess;
  /// Index of `id`, inserting it when it is new.
  Index insert(std::string_view id) { return insert(id, hash(id)); }
  /// insert() with the id's hash() already computed.
  Index insert(std::string_view id, std::uint64_t hash);
  /// Starts loading the table slot for a hash, so that a later insert() does not wait on memory.
  void prefetch(std::uint64_t hash) const {
    if (!slots_.empty()) detail::prefetch_read(&slots_[hash & (slots_.size() - 1)]);
  }
  /// Forgets the ids with these indices (each < size(); repeats and erased ones are ignored):
  /// they leave the table and their characters leave the buffer, which is compacted.
  void erase(Span<Index> indices);
  /// Appends an index that is erased from the start (restoring a map that had erased ids).
  Index append_erased();
  /// Removes every id.
  void clear();
  /// Prepares for `n` ids holding `chars` characters in all.
  void reserve(std::size_t n, std::size_t chars = 0);

  struct Slot {
    std::uint64_t prefix;  // the id's first 8 bytes, zero-padded
    std::uint32_t tag;     // hash bits (high 24) and min(length, 255) (low 8)
    std::uint32_t index;   // index + 1; 0 = empty slot
  };
  static Slot make_slot(std::string_view id, std::uint64_t h, Index index);
  bool matches(const Slot& slot, const Slot& probe, std::string_view id) const;
  void grow();
  void rehash(std::size_t capacity);
  std::string chars_;
  std::vector<std::uint64_t> ends_;  // ends_[i]: one past the last char of id i
  std::vector<Slot> slots_;
  Bitmap erased_;  // sized to the highest erased index + 1 (empty until the first erase)
  std::size_t erased_count_ = 0;
};

}  // namespace tailor
