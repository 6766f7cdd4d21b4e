// SPDX-License-Identifier: MIT
// Item features (TF-IDF over categorical values, numeric buckets and words) and the
// attribute-to-feature mapping of Gantner et al. (ICDM 2010).
#include "tailor/recipes/item_features.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "tailor/error.hpp"

namespace tailor {

namespace {

constexpr std::string_view kCreationTimestamp = "CREATION_TIMESTAMP";

// A short English stop-word list: words that say nothing about an item's content.
const std::unordered_set<std::string_view>& stop_words() {
  static const std::unordered_set<std::string_view> words = {
      "a",       "about",  "above",   "after", "again",  "against", "all",     "am",     "an",
      "and",     "any",    "are",     "as",    "at",     "be",      "because", "been",   "before",
      "being",   "below",  "between", "both",  "but",    "by",      "can",     "could",  "did",
      "do",      "does",   "doing",   "down",  "during", "each",    "few",     "for",    "from",
      "further", "had",    "has",     "have",  "having", "he",      "her",     "here",   "hers",
      "him",     "his",    "how",     "i",     "if",     "in",      "into",    "is",     "it",
      "its",     "itself", "just",    "me",    "more",   "most",    "my",      "no",     "nor",
      "not",     "now",    "of",      "off",   "on",     "once",    "only",    "or",     "other",
      "our",     "ours",   "out",     "over",  "own",    "same",    "she",     "should", "so",
      "some",    "such",   "than",    "that",  "the",    "their",   "theirs",  "them",   "then",
      "there",   "these",  "they",    "this",  "those",  "through", "to",      "too",    "under",
      "until",   "up",     "very",    "was",   "we",     "were",    "what",    "when",   "where",
      "which",   "while",  "who",     "whom",  "why",    "will",    "with",    "would",  "you",
      "your",    "yours"};
  return words;
}

bool word_byte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

std::string field_key(const std::string& field, char kind, std::string_view value) {
  std::string key = field;
  key += kind == 'C' ? '=' : kind == 'T' ? ':' : '#';
  key += value;
  return key;
}

}  // namespace

float SparseFeatures::dot(const SparseFeatures& other) const {
  float sum = 0;
  std::size_t a = 0, b = 0;
  while (a < indices.size() && b < other.indices.size()) {
    if (indices[a] < other.indices[b]) {
      ++a;
    } else if (indices[a] > other.indices[b]) {
      ++b;
    } else {
      sum += values[a++] * other.values[b++];
    }
  }
  return sum;
}

bool is_stop_word(std::string_view word) { return stop_words().count(word) != 0; }

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (word.size() > 1 && !is_stop_word(word)) words.push_back(word);
    word.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (word_byte(c)) {
      word += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

void ItemFeaturizer::raw_features(const EntityTable& items, std::uint32_t row,
                                  std::unordered_map<std::string, float>& out) const {
  out.clear();
  for (const FieldSpec& f : fields_) {
    const Column* c = items.column(f.name);
    if (!c || row >= c->size() || c->is_null(row)) continue;
    if (f.kind == Kind::Categorical) {
      for (Index code : c->codes_at(row))
        out[field_key(f.name, 'C', c->dictionary().name(code))] = 1.0f;
    } else if (f.kind == Kind::Textual) {
      for (const std::string& w : tokenize(c->text_at(row))) out[field_key(f.name, 'T', w)] += 1;
    } else if (!f.bounds.empty()) {
      const double v = c->number_at(row);
      const auto bucket = std::lower_bound(f.bounds.begin(), f.bounds.end(), v) - f.bounds.begin();
      out[field_key(f.name, 'N', std::to_string(bucket))] = 1.0f;
    }
  }
}

ItemFeaturizer ItemFeaturizer::fit(const EntityTable& items, Index count,
                                   const ItemFeatureOptions& options) {
  TAILOR_THROW_IF(
      options.numeric_buckets < 1 || options.numeric_buckets > 1000, ErrorCode::InvalidArgument,
      "item features: numeric_buckets must be 1 to 1000, not ", options.numeric_buckets);
  ItemFeaturizer z;
  std::vector<std::uint32_t> rows;
  for (Index e = 0; e < count; ++e) {
    if (items.row_of(e) != EntityTable::kNoRow) rows.push_back(items.row_of(e));
  }
  for (const Column& c : items.columns()) {
    const Field& f = c.field();
    if (f.name == kCreationTimestamp) continue;
    FieldSpec spec{f.name, Kind::Categorical, {}};
    if (f.categorical) {
      spec.kind = Kind::Categorical;
    } else if (f.textual) {
      spec.kind = Kind::Textual;
    } else if (f.is_numeric()) {
      spec.kind = Kind::Numeric;
      // Quantile bounds over the items' values; repeated bounds collapse (a field with few
      // distinct values gets fewer buckets).
      std::vector<double> values;
      for (std::uint32_t r : rows) {
        if (!c.is_null(r)) values.push_back(c.number_at(r));
      }
      if (values.empty()) continue;
      std::sort(values.begin(), values.end());
      for (int b = 1; b < options.numeric_buckets; ++b) {
        const std::size_t at = values.size() * static_cast<std::size_t>(b) /
                               static_cast<std::size_t>(options.numeric_buckets);
        const double bound = values[std::min(at, values.size() - 1)];
        if (spec.bounds.empty() || bound > spec.bounds.back()) spec.bounds.push_back(bound);
      }
    } else {
      continue;  // booleans and free strings (ids, URLs) are not content features
    }
    z.fields_.push_back(std::move(spec));
  }
  // Document frequencies; the most frequent features, ties by name, form the vocabulary.
  std::unordered_map<std::string, std::size_t> df;
  std::unordered_map<std::string, float> raw;
  for (std::uint32_t r : rows) {
    z.raw_features(items, r, raw);
    for (const auto& kv : raw) ++df[kv.first];
  }
  std::vector<std::pair<std::string, std::size_t>> ranked;
  for (auto& kv : df) {
    if (kv.second >= options.min_items && kv.first.find('\n') == std::string::npos)
      ranked.emplace_back(kv.first, kv.second);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ranked.size() > options.max_features) ranked.resize(options.max_features);
  std::sort(ranked.begin(), ranked.end());  // names in order: a stable layout for the archive
  const double n = static_cast<double>(rows.size());
  for (const auto& [name, freq] : ranked) {
    z.index_.emplace(name, static_cast<Index>(z.names_.size()));
    z.names_.push_back(name);
    z.idf_.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + freq)) + 1.0));
  }
  return z;
}

Index ItemFeaturizer::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? kNoIndex : it->second;
}

SparseFeatures ItemFeaturizer::features(const EntityTable& items, Index item) const {
  SparseFeatures out;
  const std::uint32_t row = items.row_of(item);
  if (row == EntityTable::kNoRow || names_.empty()) return out;
  std::unordered_map<std::string, float> raw;
  raw_features(items, row, raw);
  std::vector<std::pair<Index, float>> entries;
  for (const auto& [name, tf] : raw) {
    const Index f = find(name);
    if (f != kNoIndex) entries.emplace_back(f, tf * idf_[f]);
  }
  std::sort(entries.begin(), entries.end());
  double norm = 0;
  for (const auto& e : entries) norm += static_cast<double>(e.second) * e.second;
  norm = std::sqrt(norm);
  for (const auto& [f, w] : entries) {
    out.indices.push_back(f);
    out.values.push_back(static_cast<float>(w / norm));
  }
  return out;
}

std::vector<SparseFeatures> ItemFeaturizer::features_of_all(const EntityTable& items,
                                                            Index count) const {
  std::vector<SparseFeatures> out(count);
  for (Index e = 0; e < count; ++e) out[e] = features(items, e);
  return out;
}

void ItemFeaturizer::save(ModelArchive& archive, const std::string& prefix) const {
  std::string fields, names;
  // Bounds are item values, and a value on a bound must fall in the same bucket after a reload:
  // they are kept exactly, as the bits of their doubles (a float would move 0.7 or 1700000001).
  std::vector<std::uint64_t> bounds;
  std::vector<std::uint64_t> counts;
  for (const FieldSpec& f : fields_) {
    fields += static_cast<char>(f.kind);
    fields += f.name;
    fields += '\n';
    counts.push_back(f.bounds.size());
    for (double b : f.bounds) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &b, sizeof bits);
      bounds.push_back(bits);
    }
  }
  for (const std::string& n : names_) names += n + '\n';
  archive.put_text(prefix + "fields", std::move(fields));
  archive.put_integers(prefix + "bound_bits", std::move(bounds));
  archive.put_integers(prefix + "bound_counts", std::move(counts));
  archive.put_text(prefix + "names", std::move(names));
  archive.put_floats(prefix + "idf", idf_);
}

ItemFeaturizer ItemFeaturizer::load(const ModelArchive& archive, const std::string& prefix) {
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::size_t begin = 0;
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', begin)) {
      out.push_back(text.substr(begin, at - begin));
      begin = at + 1;
    }
    TAILOR_THROW_IF(begin != text.size(), ErrorCode::ParseError,
                    "item features: a list that does not end with a newline");
    return out;
  };
  ItemFeaturizer z;
  const std::vector<std::string> fields = lines(archive.text(prefix + "fields"));
  const std::vector<std::uint64_t>& counts = archive.integers(prefix + "bound_counts");
  // Archives written before the bounds were kept exactly hold them as floats ("bounds").
  std::vector<std::uint64_t> bounds;
  if (archive.has(prefix + "bound_bits")) {
    bounds = archive.integers(prefix + "bound_bits");
  } else {
    for (float b : archive.floats(prefix + "bounds")) {
      const double exact = b;
      std::uint64_t bits = 0;
      std::memcpy(&bits, &exact, sizeof bits);
      bounds.push_back(bits);
    }
  }
  TAILOR_THROW_IF(counts.size() != fields.size(), ErrorCode::ParseError,
                  "item features: ", counts.size(), " bound counts for ", fields.size(), " fields");
  std::size_t next = 0;
  for (std::size_t k = 0; k < fields.size(); ++k) {
    const std::string& line = fields[k];
    TAILOR_THROW_IF(line.size() < 2 || (line[0] != 'C' && line[0] != 'T' && line[0] != 'N'),
                    ErrorCode::ParseError, "item features: bad field entry \"", line, "\"");
    FieldSpec spec{line.substr(1), static_cast<Kind>(line[0]), {}};
    TAILOR_THROW_IF(counts[k] > bounds.size() - next, ErrorCode::ParseError,
                    "item features: the bucket bounds do not match their counts");
    for (std::uint64_t b = 0; b < counts[k]; ++b) {
      double bound = 0;
      std::memcpy(&bound, &bounds[next++], sizeof bound);
      spec.bounds.push_back(bound);
    }
    z.fields_.push_back(std::move(spec));
  }
  TAILOR_THROW_IF(next != bounds.size(), ErrorCode::ParseError,
                  "item features: the bucket bounds do not match their counts");
  z.names_ = lines(archive.text(prefix + "names"));
  z.idf_ = archive.floats(prefix + "idf");
  TAILOR_THROW_IF(z.idf_.size() != z.names_.size(), ErrorCode::ParseError,
                  "item features: ", z.idf_.size(), " idf weights for ", z.names_.size(),
                  " features");
  for (std::size_t f = 0; f < z.names_.size(); ++f) {
    TAILOR_THROW_IF(!z.index_.emplace(z.names_[f], static_cast<Index>(f)).second,
                    ErrorCode::ParseError, "item features: feature \"", z.names_[f],
                    "\" appears twice");
  }
  return z;
}

AttributeMapping AttributeMapping::fit(
    ItemFeaturizer featurizer, const std::vector<SparseFeatures>& rows,
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& factors,
    const std::vector<char>& fit_rows, float lambda) {
  const auto v = static_cast<Eigen::Index>(featurizer.size());
  const Eigen::Index f = factors.cols();
  TAILOR_THROW_IF(
      rows.size() != fit_rows.size() || static_cast<Eigen::Index>(rows.size()) > factors.rows(),
      ErrorCode::InvalidArgument, "attribute mapping: ", rows.size(), " feature rows, ",
      fit_rows.size(), " flags and ", factors.rows(), " factor rows");
  TAILOR_THROW_IF(!(lambda >= 0), ErrorCode::InvalidArgument,
                  "attribute mapping: the regularization must be >= 0");
  // Normal equations in double: FᵀF is accumulated from sparse rows (a handful of features
  // each), then one dense features × features Cholesky solve.
  Eigen::MatrixXd ftf = Eigen::MatrixXd::Zero(v, v);
  Eigen::MatrixXd fty = Eigen::MatrixXd::Zero(v, f);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!fit_rows[i]) continue;
    const SparseFeatures& x = rows[i];
    for (std::size_t a = 0; a < x.indices.size(); ++a) {
      TAILOR_THROW_IF(x.indices[a] >= static_cast<Index>(v), ErrorCode::InvalidArgument,
                      "attribute mapping: feature ", x.indices[a], " outside the vocabulary");
      for (std::size_t b = 0; b < x.indices.size(); ++b)
        ftf(x.indices[a], x.indices[b]) += static_cast<double>(x.values[a]) * x.values[b];
      fty.row(x.indices[a]) += static_cast<double>(x.values[a]) *
                               factors.row(static_cast<Eigen::Index>(i)).cast<double>();
    }
  }
  ftf.diagonal().array() += lambda;
  AttributeMapping m;
  m.featurizer = std::move(featurizer);
  Eigen::LDLT<Eigen::MatrixXd> solver(ftf);
  TAILOR_THROW_IF(solver.info() != Eigen::Success, ErrorCode::InvalidArgument,
                  "attribute mapping: the normal equations could not be solved");
  m.weights = solver.solve(fty).cast<float>();
  return m;
}

Eigen::VectorXf AttributeMapping::project(const SparseFeatures& f) const {
  Eigen::VectorXf out = Eigen::VectorXf::Zero(weights.cols());
  for (std::size_t k = 0; k < f.indices.size(); ++k) {
    if (f.indices[k] < static_cast<Index>(weights.rows()))
      out += f.values[k] * weights.row(f.indices[k]).transpose();
  }
  return out;
}

void AttributeMapping::save(ModelArchive& archive, const std::string& prefix) const {
  featurizer.save(archive, prefix);
  archive.put_integers(prefix + "weights_shape", {static_cast<std::uint64_t>(weights.rows()),
                                                  static_cast<std::uint64_t>(weights.cols())});
  archive.put_floats(prefix + "weights",
                     std::vector<float>(weights.data(), weights.data() + weights.size()));
}

AttributeMapping AttributeMapping::load(const ModelArchive& archive, const std::string& prefix,
                                        std::size_t factors) {
  AttributeMapping m;
  m.featurizer = ItemFeaturizer::load(archive, prefix);
  const std::vector<std::uint64_t>& shape = archive.integers(prefix + "weights_shape");
  const std::vector<float>& w = archive.floats(prefix + "weights");
  TAILOR_THROW_IF(shape.size() != 2 || shape[0] != m.featurizer.size() || shape[1] != factors ||
                      w.size() != m.featurizer.size() * factors,
                  ErrorCode::ParseError,
                  "attribute mapping: the weights do not match the features and factors");
  m.weights =
      Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          w.data(), static_cast<Eigen::Index>(shape[0]), static_cast<Eigen::Index>(shape[1]));
  return m;
}

std::shared_ptr<const ItemFeatureTable> ItemFeatureTable::build(const EntityTable* items,
                                                                Index count,
                                                                const ItemFeatureOptions& options) {
  if (!items || items->count() == 0) return nullptr;
  auto table = std::make_shared<ItemFeatureTable>();
  table->featurizer = ItemFeaturizer::fit(*items, count, options);
  if (table->featurizer.empty()) return nullptr;
  table->rows = table->featurizer.features_of_all(*items, count);
  return table;
}

}  // namespace tailor
