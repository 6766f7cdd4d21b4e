// SPDX-License-Identifier: MIT
// The store's catalog: its named filters and campaigns.
#include "persistence/serialize.hpp"
#include "persistence/serialize_archive.hpp"

namespace tailor::detail {

namespace {

struct PairsImage {
  std::vector<std::string> keys, values;
};
struct CatalogImage {
  PairsImage filters, campaigns;
};

}  // namespace

}  // namespace tailor::detail

BOOST_CLASS_VERSION(tailor::detail::PairsImage, 1)
BOOST_CLASS_VERSION(tailor::detail::CatalogImage, 1)

namespace boost::serialization {

template <class Archive>
void serialize(Archive& ar, tailor::detail::PairsImage& x, const unsigned int) {
  tailor::detail::image_vector_strings(ar, x.keys);
  tailor::detail::image_vector_strings(ar, x.values);
}
template <class Archive>
void serialize(Archive& ar, tailor::detail::CatalogImage& x, const unsigned int) {
  ar& x.filters& x.campaigns;
}

}  // namespace boost::serialization

namespace tailor::detail {

namespace {

PairsImage pairs_image(const std::vector<std::pair<std::string, std::string>>& pairs) {
  PairsImage img;
  for (const auto& [k, v] : pairs) {
    img.keys.push_back(k);
    img.values.push_back(v);
  }
  return img;
}
std::vector<std::pair<std::string, std::string>> pairs_of(const PairsImage& img,
                                                          const std::string& what) {
  TAILOR_THROW_IF(img.keys.size() != img.values.size(), ErrorCode::ParseError, what,
                  ": inconsistent contents");
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t k = 0; k < img.keys.size(); ++k) out.emplace_back(img.keys[k], img.values[k]);
  return out;
}

}  // namespace

std::string serialize_catalog(const Catalog& catalog) {
  return to_bytes(CatalogImage{pairs_image(catalog.filters), pairs_image(catalog.campaigns)});
}

Catalog deserialize_catalog(const std::string& payload, const std::string& what) {
  const CatalogImage img = from_bytes<CatalogImage>(payload, what);
  return Catalog{pairs_of(img.filters, what), pairs_of(img.campaigns, what)};
}

}  // namespace tailor::detail
