// SPDX-License-Identifier: MIT
// The documented limits of requests and live updates (Personalize's), declared once: the
// library checks them, and the command line and batch jobs quote them.
#pragma once

#include <cstddef>

namespace tailor {

/// Limits of get_recommendations() and get_personalized_ranking() requests.
struct CampaignLimits {
  static constexpr std::size_t kMaxNumResults = 500;
  static constexpr std::size_t kMaxInputList = 500;
  static constexpr std::size_t kMaxContextEntries = 150;
  static constexpr std::size_t kMaxContextKey = 150;
  static constexpr std::size_t kMaxContextValue = 1000;
  static constexpr std::size_t kMaxExcluded = 500;
  static constexpr std::size_t kMaxMetadataColumns = 10;  ///< metadata_columns of one request
};

/// Limits of put_events(), put_users() and put_items() records (PutEvents, PutUsers, PutItems).
struct PutLimits {
  static constexpr std::size_t kMaxIdLength = 256;    ///< sessionId, userId and eventId, characters
  static constexpr std::size_t kMaxImpressions = 25;  ///< item ids in one event's impression
  static constexpr std::size_t kMaxRecommendationId = 40;   ///< characters
  static constexpr std::size_t kMaxEventProperties = 1024;  ///< characters of properties JSON
  static constexpr std::size_t kMaxUserProperties = 4096;   ///< characters of properties JSON
  static constexpr std::size_t kMaxItemProperties = 24262;  ///< characters of properties JSON
};

}  // namespace tailor
