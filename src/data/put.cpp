// SPDX-License-Identifier: MIT
// put_events / put_users / put_items: records become CSV rows and go through the one import
// path, so live updates obey exactly the rules of bulk import (types, limits, UTF-8, upserts).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>
#include <unordered_set>

#include "io/json.hpp"
#include "tailor/data/dataset_group.hpp"
#include "tailor/error.hpp"
#include "tailor/limits.hpp"

namespace tailor {

namespace {

// numberOfRatings -> NUMBER_OF_RATINGS (Personalize's mapping of property keys to fields).
std::string field_name(std::string_view key) {
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (std::isupper(c) && i > 0 && key[i - 1] != '_') out.push_back('_');
    out.push_back(static_cast<char>(std::toupper(c)));
  }
  return out;
}

// The property key of a schema field: CONTENT_TYPE -> contentType (field_name()'s inverse).
std::string property_key(std::string_view field) {
  std::string out;
  bool upper = false;
  for (char c : field) {
    if (c == '_') {
      upper = !out.empty();
      continue;
    }
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(static_cast<char>(upper ? std::toupper(u) : std::tolower(u)));
    upper = false;
  }
  return out;
}

void append_cell(std::string& csv, std::string_view value) {
  csv.push_back('"');
  for (char c : value) {
    if (c == '"') csv.push_back('"');
    csv.push_back(c);
  }
  csv.push_back('"');
}

std::string number_text(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

// Parses a properties object into field -> CSV text. Returns an error text, or "" when fine.
std::string read_properties(const std::string& json, std::size_t limit, const Schema& schema,
                            const std::vector<std::string>& reserved,
                            std::vector<std::pair<int, std::string>>& cells) {
  if (json.empty()) return "";
  if (json.size() > limit) {
    return "properties of " + std::to_string(json.size()) + " characters, more than the limit of " +
           std::to_string(limit);
  }
  detail::Json root = detail::Json::make_null();
  try {
    root = detail::parse_json(json, "properties");
  } catch (const Error& e) {
    return e.what();
  }
  if (!root.is_object()) return "properties must be a JSON object";
  for (const auto& [key, value] : root.members()) {
    const std::string name = field_name(key);
    const int index = schema.index_of(name);
    if (index < 0 || std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
      std::string known;
      for (const Field& f : schema.fields()) {
        if (std::find(reserved.begin(), reserved.end(), f.name) != reserved.end()) continue;
        known += (known.empty() ? "" : ", ") + property_key(f.name);
      }
      return "property \"" + key + "\" is not a field of the " + to_string(schema.kind()) +
             " schema (expected the camelCase name of a metadata field: " +
             (known.empty() ? "there are none" : known) + ")";
    }
    std::string text;
    switch (value.kind()) {
      case detail::Json::Kind::String:
        if (value.as_string().find('\0') != std::string::npos) {
          return "property \"" + key + "\" contains a NUL character (\\u0000)";
        }
        text = value.as_string();
        break;
      case detail::Json::Kind::Int:
        text = std::to_string(value.as_int());
        break;
      case detail::Json::Kind::Real:
        text = number_text(value.as_real());
        break;
      case detail::Json::Kind::Bool:
        text = value.as_bool() ? "true" : "false";
        break;
      case detail::Json::Kind::Null:
        break;  // null: an empty cell
      default:
        return "property \"" + key + "\" must be a string, number, boolean or null";
    }
    cells.emplace_back(index, std::move(text));
  }
  return "";
}

// Stages `rows` (cells by schema position) as one incremental, skip-invalid CSV job and merges its
// report with the errors found before.
StagedPut stage(const DatasetGroup& group, DatasetKind kind,
                const std::vector<std::vector<std::string>>& rows,
                const std::vector<std::size_t>& record_of_row, std::vector<RowError> early,
                std::size_t total) {
  const Schema& schema = group.schema(kind);
  StagedPut staged;
  staged.kind = kind;
  PutReport& report = staged.report;
  std::vector<char> rejected(rows.size(), 0);
  if (!rows.empty()) {
    std::string csv;
    for (std::size_t f = 0; f < schema.fields().size(); ++f)
      csv += (f ? "," : "") + schema.fields()[f].name;
    csv += "\n";
    std::vector<std::size_t> first_line;  // CSV line of each row (quoted newlines move it)
    std::size_t line = 2;
    for (const auto& row : rows) {
      first_line.push_back(line);
      for (std::size_t f = 0; f < row.size(); ++f) {
        if (f) csv.push_back(',');
        if (!row[f].empty()) append_cell(csv, row[f]);
        line += static_cast<std::size_t>(std::count(row[f].begin(), row[f].end(), '\n'));
      }
      csv.push_back('\n');
      ++line;
    }
    ImportOptions options;
    options.mode = ImportMode::Incremental;
    options.policy = ImportPolicy::SkipInvalid;
    options.execution.num_threads = 1;
    options.max_reported_errors = rows.size();
    staged.rows = group.stage_csv_text(kind, csv, options);
    for (RowError e : staged.rows.report().errors) {
      auto it = std::upper_bound(first_line.begin(), first_line.end(), e.line);
      const std::size_t row = static_cast<std::size_t>(it - first_line.begin()) - 1;
      rejected[row] = 1;
      e.line = record_of_row[row] + 1;
      early.push_back(std::move(e));
    }
  }
  for (std::size_t row = 0; row < rows.size(); ++row) {
    if (!rejected[row]) staged.accepted.push_back(record_of_row[row]);
  }
  std::sort(early.begin(), early.end(),
            [](const RowError& a, const RowError& b) { return a.line < b.line; });
  report.errors = std::move(early);
  report.rejected = report.errors.size();
  report.accepted = total - report.rejected;
  return staged;
}

}  // namespace

PutReport DatasetGroup::put_events(const std::vector<EventRecord>& events) {
  return commit(stage_events(events));
}

namespace {

// Stages events against the stored eventIds; the records marked in `skip` count as duplicates
// (retries of an earlier record of the call, see DatasetGroup::stage_events()).
StagedPut stage_event_records(const DatasetGroup& group,
                              const std::unordered_set<std::uint64_t>& stored_ids,
                              const std::vector<EventRecord>& events,
                              const std::vector<char>& skip) {
  const Schema& schema = group.schema(DatasetKind::Interactions);
  const std::vector<std::string> reserved = {"USER_ID",          "ITEM_ID",     "TIMESTAMP",
                                             "EVENT_TYPE",       "EVENT_VALUE", "IMPRESSION",
                                             "RECOMMENDATION_ID"};
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> record_of_row;
  std::vector<RowError> errors;
  std::size_t duplicates = 0;
  for (std::size_t r = 0; r < events.size(); ++r) {
    const EventRecord& e = events[r];
    auto reject = [&](const char* field, std::string why) {
      errors.push_back({r + 1, field, std::move(why)});
    };
    if (!e.event_id.empty()) {
      // A retried event is acknowledged again but stored once.
      if (skip[r] || stored_ids.count(IdMap::hash(e.event_id))) {
        ++duplicates;
        continue;
      }
    }
    if (e.session_id.empty() || e.session_id.size() > PutLimits::kMaxIdLength) {
      reject("sessionId", "sessionId is required, 1 to 256 characters");
      continue;
    }
    if (e.user_id.size() > PutLimits::kMaxIdLength) {
      reject("userId", "userId is longer than 256 characters");
      continue;
    }
    if (e.item_id.empty()) {
      reject("itemId", "itemId is required");
      continue;
    }
    if (e.event_type.empty()) {
      reject("eventType", "eventType is required");
      continue;
    }
    if (!e.sent_at) {
      reject("sentAt", "sentAt is required (the event's time in epoch seconds)");
      continue;
    }
    if (e.event_id.size() > PutLimits::kMaxIdLength &&
        std::count_if(e.event_id.begin(), e.event_id.end(), [](char c) {
          return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }) > static_cast<std::ptrdiff_t>(PutLimits::kMaxIdLength)) {
      reject("eventId", "eventId is longer than 256 characters");
      continue;
    }
    if (e.event_value && !std::isfinite(*e.event_value)) {
      reject("eventValue", "eventValue must be a finite number");
      continue;
    }
    if (e.impression.size() > PutLimits::kMaxImpressions) {
      reject("impression",
             std::to_string(e.impression.size()) + " impressions, more than the limit of 25");
      continue;
    }
    if (e.recommendation_id.size() > PutLimits::kMaxRecommendationId) {
      reject("recommendationId", "recommendationId is longer than 40 characters");
      continue;
    }
    std::vector<std::string> row(schema.fields().size());
    auto set = [&](const char* field, std::string value) {
      const int i = schema.index_of(field);
      if (i >= 0) row[static_cast<std::size_t>(i)] = std::move(value);
      return i >= 0;
    };
    set("USER_ID", e.user_id.empty() ? e.session_id : e.user_id);
    set("ITEM_ID", e.item_id);
    set("TIMESTAMP", std::to_string(*e.sent_at));
    set("EVENT_TYPE", e.event_type);
    if (e.event_value) set("EVENT_VALUE", number_text(*e.event_value));
    std::string impression;
    for (const std::string& id : e.impression) impression += (impression.empty() ? "" : "|") + id;
    set("IMPRESSION", impression);
    set("RECOMMENDATION_ID", e.recommendation_id);
    std::vector<std::pair<int, std::string>> cells;
    std::string problem =
        read_properties(e.properties, PutLimits::kMaxEventProperties, schema, reserved, cells);
    if (!problem.empty()) {
      reject("properties", problem);
      continue;
    }
    for (auto& [i, text] : cells) row[static_cast<std::size_t>(i)] = std::move(text);
    rows.push_back(std::move(row));
    record_of_row.push_back(r);
  }
  StagedPut staged = stage(group, DatasetKind::Interactions, rows, record_of_row, std::move(errors),
                           events.size());
  staged.report.duplicates = duplicates;
  for (std::size_t r : staged.accepted) {
    if (!events[r].event_id.empty()) staged.event_ids.push_back(IdMap::hash(events[r].event_id));
  }
  return staged;
}

}  // namespace

StagedPut DatasetGroup::stage_events(const std::vector<EventRecord>& events) const {
  std::vector<char> skip(events.size(), 0);
  StagedPut staged = stage_event_records(*this, event_ids_, events, skip);
  // Retries within the call: of the accepted records that share an eventId, the first is stored
  // and the others are duplicates. Deciding after validation keeps a rejected record from making a
  // corrected retry of it a duplicate (acknowledged, never stored); validation is per record, so
  // staging again without the duplicates accepts exactly the rest.
  std::unordered_set<std::uint64_t> seen;
  bool retried = false;
  for (std::size_t r : staged.accepted) {  // ascending
    if (!events[r].event_id.empty() && !seen.insert(IdMap::hash(events[r].event_id)).second) {
      skip[r] = 1;
      retried = true;
    }
  }
  if (retried) staged = stage_event_records(*this, event_ids_, events, skip);
  return staged;
}

namespace {
StagedPut stage_entities(const DatasetGroup& group, DatasetKind kind,
                         const std::vector<EntityRecord>& records) {
  const Schema& schema = group.schema(kind);
  const char* id_field = kind == DatasetKind::Users ? "USER_ID" : "ITEM_ID";
  const std::size_t limit =
      kind == DatasetKind::Users ? PutLimits::kMaxUserProperties : PutLimits::kMaxItemProperties;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> record_of_row;
  std::vector<RowError> errors;
  for (std::size_t r = 0; r < records.size(); ++r) {
    const EntityRecord& e = records[r];
    std::vector<std::string> row(schema.fields().size());
    row[static_cast<std::size_t>(schema.index_of(id_field))] = e.id;
    std::vector<std::pair<int, std::string>> cells;
    std::string problem = read_properties(e.properties, limit, schema, {id_field}, cells);
    if (!problem.empty()) {
      errors.push_back({r + 1, "properties", problem});
      continue;
    }
    for (auto& [i, text] : cells) row[static_cast<std::size_t>(i)] = std::move(text);
    rows.push_back(std::move(row));
    record_of_row.push_back(r);
  }
  return stage(group, kind, rows, record_of_row, std::move(errors), records.size());
}
}  // namespace

PutReport DatasetGroup::put_users(const std::vector<EntityRecord>& users) {
  return commit(stage_users(users));
}

PutReport DatasetGroup::put_items(const std::vector<EntityRecord>& items) {
  return commit(stage_items(items));
}

StagedPut DatasetGroup::stage_users(const std::vector<EntityRecord>& users) const {
  return stage_entities(*this, DatasetKind::Users, users);
}

StagedPut DatasetGroup::stage_items(const std::vector<EntityRecord>& items) const {
  return stage_entities(*this, DatasetKind::Items, items);
}

PutReport DatasetGroup::commit(StagedPut staged) {
  commit(std::move(staged.rows));
  event_ids_.insert(staged.event_ids.begin(), staged.event_ids.end());
  return std::move(staged.report);
}

}  // namespace tailor
