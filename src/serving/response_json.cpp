// SPDX-License-Identifier: MIT
#include "serving/response_json.hpp"

#include <cstdio>

#include "io/json.hpp"

namespace tailor::detail {

std::string response_json(const RecommendationResponse& r, const char* list_name) {
  std::string out = std::string("{\"") + list_name + "\":[";
  for (std::size_t k = 0; k < r.items.size(); ++k) {
    const RecommendedItem& item = r.items[k];
    if (k) out += ",";
    out += "{\"itemId\":";
    append_json_string(out, item.item_id);
    if (item.score) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.6g", *item.score);
      out += std::string(",\"score\":") + buffer;
    }
    if (!item.promotion_name.empty()) {
      out += ",\"promotionName\":";
      append_json_string(out, item.promotion_name);
    }
    if (item.explored) out += ",\"exploration\":true";
    if (!item.metadata.empty()) {
      out += ",\"metadata\":{";
      for (std::size_t c = 0; c < item.metadata.size(); ++c) {
        if (c) out += ",";
        append_json_string(out, item.metadata[c].first);
        out += ":";
        append_json_string(out, item.metadata[c].second);
      }
      out += "}";
    }
    if (!item.reason.empty()) {
      out += ",\"reason\":[";
      for (std::size_t n = 0; n < item.reason.size(); ++n) {
        if (n) out += ",";
        append_json_string(out, item.reason[n]);
      }
      out += "]";
    }
    out += "}";
  }
  out += "],\"recommendationId\":";
  append_json_string(out, r.recommendation_id);
  return out + "}";
}

}  // namespace tailor::detail
