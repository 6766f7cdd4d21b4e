// SPDX-License-Identifier: MIT
// Column: the append-only, typed, null-aware storage of one schema field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/bitmap.hpp"
#include "tailor/data/id_map.hpp"
#include "tailor/export.hpp"
#include "tailor/schema/schema.hpp"
#include "tailor/types.hpp"

namespace tailor {

namespace detail {
struct DataAccess;
}  // namespace detail

/// Values of one field, one per row, stored by type:
/// integers as int64, floating point as double, booleans as bytes, categorical strings as
/// dictionary codes (several per row for `|`-separated values), other strings in one buffer.
/// A null mask exists only for nullable fields.
///
/// Users read columns (a DatasetGroup's datasets hand them out as const references); only the
/// library appends rows.
///
/// Thread safety: const members may be called concurrently.
class TAILOR_EXPORT Column {
 public:
  explicit Column(Field field);

  const Field& field() const { return field_; }
  std::size_t size() const { return size_; }

  bool is_null(std::size_t row) const { return !nulls_.empty() && nulls_[row] != 0; }
  /// Integer value (int and long fields).
  std::int64_t int_at(std::size_t row) const { return ints_[row]; }
  /// Numeric value as double (any numeric field).
  double number_at(std::size_t row) const {
    return field_.is_integral() ? static_cast<double>(ints_[row]) : reals_[row];
  }
  bool bool_at(std::size_t row) const { return bools_[row] != 0; }
  /// Text of a non-categorical string field.
  std::string_view text_at(std::size_t row) const {
    std::size_t begin = row == 0 ? 0 : text_ends_[row - 1];
    return std::string_view(chars_.data() + begin, text_ends_[row] - begin);
  }
  /// Dictionary codes of a categorical field's values in this row (empty when null).
  Span<Index> codes_at(std::size_t row) const {
    std::size_t begin = row == 0 ? 0 : code_ends_[row - 1];
    return Span<Index>(codes_.data() + begin, code_ends_[row] - begin);
  }
  /// The distinct values of a categorical field; codes index into it.
  const IdMap& dictionary() const { return dictionary_; }

  /// Bytes of heap memory held.
  std::size_t memory_bytes() const;

 private:
  // Mutation is the library's (through detail::DataAccess); external synchronisation against
  // every other call is the caller's.
  friend struct detail::DataAccess;
  // One append per row.
  void append_null();
  void append_int(std::int64_t value);
  void append_real(double value);
  void append_bool(bool value);
  void append_text(std::string_view value);
  /// Appends a categorical row from dictionary codes (see intern()).
  void append_codes(const Index* codes, std::size_t count);
  /// Dictionary code of a categorical value, adding it when new.
  Index intern(std::string_view value);
  /// Appends row `row` of `other`, a column of the same field.
  void append_from(const Column& other, std::size_t row);
  void reserve(std::size_t rows);
  void clear();
  /// Keeps the rows whose bit is set in `keep` (size() bits), in order. A categorical column's
  /// dictionary is rebuilt from the kept rows (codes change), so values that only dropped rows
  /// held are gone.
  void keep_rows(const Bitmap& keep);

  void push_not_null() {
    if (field_.nullable) nulls_.push_back(0);
    ++size_;
  }
  Field field_;
  std::size_t size_ = 0;
  std::vector<std::uint8_t> nulls_;
  std::vector<std::int64_t> ints_;
  std::vector<double> reals_;
  std::vector<std::uint8_t> bools_;
  std::vector<Index> codes_;
  std::vector<std::uint64_t> code_ends_;
  IdMap dictionary_;
  std::string chars_;
  std::vector<std::uint64_t> text_ends_;
};

}  // namespace tailor
