// SPDX-License-Identifier: MIT
// Column storage.
#include "tailor/data/column.hpp"

#include <utility>

#include "data/data_access.hpp"
#include "tailor/error.hpp"

namespace tailor {

Column::Column(Field field) : field_(std::move(field)) {}

void Column::append_null() {
  TAILOR_THROW_IF(!field_.nullable, ErrorCode::SchemaMismatch, "field ", field_.name,
                  " is not nullable");
  nulls_.push_back(1);
  ++size_;
  // Keep every typed vector aligned with the row count so *_at(row) stays O(1).
  if (field_.is_integral())
    ints_.push_back(0);
  else if (field_.is_numeric())
    reals_.push_back(0);
  else if (field_.type == FieldType::Boolean)
    bools_.push_back(0);
  else if (field_.categorical)
    code_ends_.push_back(codes_.size());
  else
    text_ends_.push_back(chars_.size());
}

void Column::append_int(std::int64_t value) {
  ints_.push_back(value);
  push_not_null();
}

void Column::append_real(double value) {
  reals_.push_back(value);
  push_not_null();
}

void Column::append_bool(bool value) {
  bools_.push_back(value ? 1 : 0);
  push_not_null();
}

void Column::append_text(std::string_view value) {
  chars_.append(value.data(), value.size());
  text_ends_.push_back(chars_.size());
  push_not_null();
}

void Column::append_codes(const Index* codes, std::size_t count) {
  codes_.insert(codes_.end(), codes, codes + count);
  code_ends_.push_back(codes_.size());
  push_not_null();
}

Index Column::intern(std::string_view value) {
  return detail::DataAccess::insert(dictionary_, value);
}

void Column::append_from(const Column& other, std::size_t row) {
  if (other.is_null(row)) {
    append_null();
  } else if (field_.is_integral()) {
    append_int(other.int_at(row));
  } else if (field_.is_numeric()) {
    append_real(other.reals_[row]);
  } else if (field_.type == FieldType::Boolean) {
    append_bool(other.bool_at(row));
  } else if (field_.categorical) {
    Span<Index> codes = other.codes_at(row);
    for (Index c : codes) codes_.push_back(intern(other.dictionary_.name(c)));
    code_ends_.push_back(codes_.size());
    push_not_null();
  } else {
    append_text(other.text_at(row));
  }
}

void Column::reserve(std::size_t rows) {
  if (field_.nullable) nulls_.reserve(rows);
  if (field_.is_integral())
    ints_.reserve(rows);
  else if (field_.is_numeric())
    reals_.reserve(rows);
  else if (field_.type == FieldType::Boolean)
    bools_.reserve(rows);
  else if (field_.categorical)
    code_ends_.reserve(rows);
  else
    text_ends_.reserve(rows);
}

void Column::keep_rows(const Bitmap& keep) {
  TAILOR_THROW_IF(keep.size() != size_, ErrorCode::InvalidArgument, "keep_rows: ", keep.size(),
                  " bits for ", size_, " rows");
  Column kept(field_);
  kept.reserve(keep.count());
  for (std::size_t r = 0; r < size_; ++r) {
    if (keep.test(r)) kept.append_from(*this, r);
  }
  *this = std::move(kept);
}

void Column::clear() { *this = Column(field_); }

std::size_t Column::memory_bytes() const {
  return nulls_.capacity() + ints_.capacity() * sizeof(std::int64_t) +
         reals_.capacity() * sizeof(double) + bools_.capacity() +
         codes_.capacity() * sizeof(Index) + code_ends_.capacity() * sizeof(std::uint64_t) +
         dictionary_.memory_bytes() + chars_.capacity() +
         text_ends_.capacity() * sizeof(std::uint64_t);
}

}  // namespace tailor
