// SPDX-License-Identifier: MIT
// IdMap: open addressing with linear probing over indices into one character buffer.
#include "tailor/data/id_map.hpp"

#include <algorithm>
#include <cstring>

#include "detail/hash64.hpp"
#include "tailor/error.hpp"

namespace tailor {

std::uint64_t IdMap::hash(std::string_view s) noexcept {
  return detail::hash_bytes(s.data(), s.size());
}

IdMap::Slot IdMap::make_slot(std::string_view id, std::uint64_t h, Index index) {
  Slot slot{detail::prefix_word(id.data(), id.size()), 0, index + 1};
  slot.tag = static_cast<std::uint32_t>(h >> 40) << 8 |
             static_cast<std::uint32_t>(id.size() < 255 ? id.size() : 255);
  return slot;
}

bool IdMap::matches(const Slot& slot, const Slot& probe, std::string_view id) const {
  if (slot.tag != probe.tag || slot.prefix != probe.prefix) return false;
  // Up to 8 bytes, prefix and length are the whole id.
  return id.size() <= 8 || name(slot.index - 1) == id;
}

Index IdMap::find(std::string_view id) const {
  if (slots_.empty()) return kNoIndex;
  const std::uint64_t h = hash(id);
  const Slot probe = make_slot(id, h, 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t pos = h & mask;; pos = (pos + 1) & mask) {
    const Slot& slot = slots_[pos];
    if (slot.index == 0) return kNoIndex;
    if (matches(slot, probe, id)) return slot.index - 1;
  }
}

Index IdMap::insert(std::string_view id, std::uint64_t h) {
  if ((ends_.size() + 1) * 2 > slots_.size()) grow();
  const Slot probe = make_slot(id, h, 0);
  const std::size_t mask = slots_.size() - 1;
  std::size_t pos = h & mask;
  for (;; pos = (pos + 1) & mask) {
    const Slot& slot = slots_[pos];
    if (slot.index == 0) break;
    if (matches(slot, probe, id)) return slot.index - 1;
  }
  TAILOR_THROW_IF(ends_.size() >= kNoIndex - 1, ErrorCode::InvalidArgument, "more than ",
                  kNoIndex - 1, " distinct ids");
  const Index index = static_cast<Index>(ends_.size());
  chars_.append(id.data(), id.size());
  ends_.push_back(chars_.size());
  slots_[pos] = make_slot(id, h, index);
  return index;
}

void IdMap::grow() {
  std::size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
  while (capacity < (ends_.size() + 1) * 2) capacity *= 2;
  rehash(capacity);
}

void IdMap::rehash(std::size_t capacity) {
  std::vector<Slot> fresh(capacity, Slot{0, 0, 0});
  const std::size_t mask = capacity - 1;
  // Ids are hashed a few at a time and their slots fetched before any is placed, so that the
  // table's cache misses overlap; they are placed in index order, as one at a time would.
  constexpr Index kAhead = 16;
  std::uint64_t hashes[kAhead];
  for (Index first = 0; first < size(); first += kAhead) {
    const Index count = std::min<Index>(kAhead, size() - first);
    for (Index k = 0; k < count; ++k) {
      hashes[k] = hash(name(first + k));
      detail::prefetch_read(&fresh[hashes[k] & mask]);
    }
    for (Index k = 0; k < count; ++k) {
      const Index i = first + k;
      if (is_erased(i)) continue;
      std::size_t pos = hashes[k] & mask;
      while (fresh[pos].index != 0) pos = (pos + 1) & mask;
      fresh[pos] = make_slot(name(i), hashes[k], i);
    }
  }
  slots_.swap(fresh);
}

void IdMap::erase(Span<Index> indices) {
  std::vector<Index> fresh;
  for (Index i : indices) {
    TAILOR_THROW_IF(i >= size(), ErrorCode::InvalidArgument, "cannot erase index ", i, " of ",
                    size(), " ids");
    if (!is_erased(i)) fresh.push_back(i);
  }
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  if (fresh.empty()) return;
  if (erased_.size() <= fresh.back()) erased_.resize(static_cast<std::size_t>(fresh.back()) + 1);
  for (Index i : fresh) erased_.set(i);
  erased_count_ += fresh.size();
  // Rewrite the buffer without the erased characters (every erased id's range becomes empty),
  // and wipe the old buffer and table, which held them, before they are released.
  std::string chars;
  chars.reserve(chars_.size());
  std::vector<std::uint64_t> ends;
  ends.reserve(ends_.size());
  for (Index i = 0; i < size(); ++i) {
    if (!is_erased(i)) chars.append(name(i));
    ends.push_back(chars.size());
  }
  std::fill(chars_.begin(), chars_.end(), '\0');
  chars_.swap(chars);
  ends_.swap(ends);
  std::fill(slots_.begin(), slots_.end(), Slot{0, 0, 0});
  rehash(slots_.size());
}

Index IdMap::append_erased() {
  TAILOR_THROW_IF(ends_.size() >= kNoIndex - 1, ErrorCode::InvalidArgument, "more than ",
                  kNoIndex - 1, " distinct ids");
  if ((ends_.size() + 1) * 2 > slots_.size()) grow();
  const Index index = static_cast<Index>(ends_.size());
  ends_.push_back(chars_.size());
  erased_.resize(static_cast<std::size_t>(index) + 1);
  erased_.set(index);
  ++erased_count_;
  return index;
}

void IdMap::clear() {
  chars_.clear();
  ends_.clear();
  slots_.clear();
  erased_ = Bitmap();
  erased_count_ = 0;
}

void IdMap::reserve(std::size_t n, std::size_t chars) {
  ends_.reserve(n);
  chars_.reserve(chars);
  if (n * 2 > slots_.size()) {
    std::size_t capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    rehash(capacity);
  }
}

std::size_t IdMap::memory_bytes() const {
  return chars_.capacity() + ends_.capacity() * sizeof(std::uint64_t) +
         slots_.capacity() * sizeof(Slot) + erased_.words().capacity() * sizeof(std::uint64_t);
}

}  // namespace tailor
