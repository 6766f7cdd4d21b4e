// SPDX-License-Identifier: MIT
// The length-checked archive helpers shared by the serialize_*.cpp files, the only translation
// units that include Boost.Serialization (and so the only ones that may include this header).
// Objects are written as versioned image structs (BOOST_CLASS_VERSION each) holding flat arrays;
// arrays are read with their length checked against the bytes left, so hostile input can neither
// crash nor allocate without bound.
#pragma once

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <exception>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "tailor/error.hpp"
#include "tailor/types.hpp"

namespace tailor::detail {

/// Bytes left in the payload being read; only called while from_bytes() reads.
std::uint64_t bytes_left();

/// `n` elements of at least `min_bytes` serialised bytes each fit in the rest of the payload.
/// @throws Error(ParseError)
void check_count(std::uint64_t n, std::uint64_t min_bytes, const char* what);

/// Makes bytes_left() measure `buffer` (of `size` bytes) for its lifetime, on this thread.
class PayloadScope {
 public:
  PayloadScope(std::streambuf* buffer, std::uint64_t size);
  ~PayloadScope();
  PayloadScope(const PayloadScope&) = delete;
  PayloadScope& operator=(const PayloadScope&) = delete;
};

template <typename A, typename T>
void save_array(A& ar, const std::vector<T>& v) {
  const std::uint64_t n = v.size();
  ar << n;
  if (n) ar.save_binary(v.data(), n * sizeof(T));
}
// An array saved from where it lies, in the same bytes as a vector of it.
template <typename A, typename T>
void save_array(A& ar, const Span<T>& v) {
  const std::uint64_t n = v.size();
  ar << n;
  if (n) ar.save_binary(v.data(), n * sizeof(T));
}
template <typename A, typename T>
void load_array(A& ar, std::vector<T>& v) {
  std::uint64_t n = 0;
  ar >> n;
  check_count(n, sizeof(T), "array elements");
  v.resize(n);
  if (n) ar.load_binary(v.data(), n * sizeof(T));
}
template <typename A>
void save_text(A& ar, const std::string& s) {
  const std::uint64_t n = s.size();
  ar << n;
  if (n) ar.save_binary(s.data(), n);
}
template <typename A>
void load_text(A& ar, std::string& s) {
  std::uint64_t n = 0;
  ar >> n;
  TAILOR_THROW_IF(n > bytes_left(), ErrorCode::ParseError, "a string of ", n,
                  " bytes is longer than the rest of the file");
  s.resize(n);
  if (n) ar.load_binary(s.data(), n);
}

template <typename A>
void image_vector_strings(A& ar, std::vector<std::string>& v) {
  std::uint64_t n = v.size();
  ar& n;
  if constexpr (!A::is_saving::value) {
    check_count(n, sizeof(std::uint64_t), "strings");  // each string has at least its length
    v.resize(n);
  }
  for (std::string& s : v) {
    if constexpr (A::is_saving::value)
      save_text(ar, s);
    else
      load_text(ar, s);
  }
}

// The fewest bytes one element of a list takes in a payload (its class header, written once per
// list, not counted): a list's count is checked against the bytes left divided by this, so a
// hostile count allocates at most sizeof(T) / kMinBytes<T> (under 8) times the payload's size.
// Each list's element type specialises it where it is serialised.
template <typename T>
constexpr std::uint64_t kMinBytes = 0;
constexpr std::uint64_t kLength = sizeof(std::uint64_t);  // an array's or a string's length

// Vectors of images: the count is checked against the bytes left at the element's smallest size.
template <class Archive, class T>
void image_vector(Archive& ar, std::vector<T>& v) {
  constexpr std::uint64_t min_bytes = kMinBytes<T>;
  static_assert(min_bytes > 0 && sizeof(T) < 8 * min_bytes,
                "a list element takes under 8 times its smallest encoding in memory");
  std::uint64_t n = v.size();
  ar& n;
  if constexpr (!Archive::is_saving::value) {
    check_count(n, min_bytes, "entries");
    v.resize(n);
  }
  for (T& item : v) ar& item;
}

/// Writes `image` into `out`, in the bytes of to_bytes(image).
template <typename Image>
void save_to(std::streambuf& out, const Image& image) {
  boost::archive::binary_oarchive ar(out, boost::archive::no_header);
  ar << image;
}

template <typename Image>
std::string to_bytes(const Image& image) {
  std::ostringstream out(std::ios::binary);
  {
    boost::archive::binary_oarchive ar(out, boost::archive::no_header);
    ar << image;
  }
  return out.str();
}

/// @throws Error(ParseError) naming `what` when the bytes are not an `Image`
template <typename Image>
Image from_bytes(const std::string& payload, const std::string& what) {
  Image image;
  try {
    std::istringstream in(payload, std::ios::binary);
    PayloadScope reading(in.rdbuf(), payload.size());
    boost::archive::binary_iarchive ar(in, boost::archive::no_header);
    ar >> image;
  } catch (const Error& e) {
    TAILOR_THROW(ErrorCode::ParseError, what, ": corrupted contents (", e.what(), ")");
  } catch (const std::exception& e) {
    TAILOR_THROW(ErrorCode::ParseError, what, ": corrupted contents (", e.what(), ")");
  }
  return image;
}

}  // namespace tailor::detail

// Each image is saved and loaded field by field; arrays and strings through the length-checked
// helpers. Used inside the `serialize(Archive& ar, T& x, unsigned)` functions.
#define TAILOR_ARRAY(field)                  \
  if constexpr (Archive::is_saving::value)   \
    tailor::detail::save_array(ar, x.field); \
  else                                       \
    tailor::detail::load_array(ar, x.field)
#define TAILOR_TEXT(field)                  \
  if constexpr (Archive::is_saving::value)  \
    tailor::detail::save_text(ar, x.field); \
  else                                      \
    tailor::detail::load_text(ar, x.field)
