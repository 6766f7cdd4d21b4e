// SPDX-License-Identifier: MIT
// Batch inference: read a block of lines, answer them in parallel through the campaign, write the
// block in input order, repeat; memory stays bounded by the block size.
#include "tailor/batch/batch_inference.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "detail/parallel.hpp"
#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

void append_number(std::string& out, double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  out += buffer;
}

std::string answer(const Campaign& campaign, const std::string& line, const BatchOptions& options, bool& ok) {
  std::string out = "{\"input\":";
  ok = false;
  detail::Json input = detail::Json::make_null();
  try {
    input = detail::parse_json(line, "input line");
  } catch (const Error& e) {
    detail::append_json_string(out, line);
    out += ",\"output\":null,\"error\":";
    detail::append_json_string(out, e.what());
    return out + "}";
  }
  out += line;  // the input, as given
  try {
    TAILOR_THROW_IF(!input.is_object(), ErrorCode::InvalidArgument, "each line must be a JSON object");
    std::string user, item;
    std::vector<std::string> item_list;
    std::size_t num_results = options.num_results;
    FilterValues values = options.filter_values;
    for (const auto& [key, value] : input.members()) {
      if (key == "userId" || key == "itemId") {
        TAILOR_THROW_IF(!value.is_string(), ErrorCode::InvalidArgument, key, " must be a string");
        (key == "userId" ? user : item) = value.as_string();
      } else if (key == "itemList") {
        TAILOR_THROW_IF(!value.is_array(), ErrorCode::InvalidArgument, "itemList must be an array of strings");
        for (const detail::Json& v : value.items()) {
          TAILOR_THROW_IF(!v.is_string(), ErrorCode::InvalidArgument, "itemList must be an array of strings");
          item_list.push_back(v.as_string());
        }
      } else if (key == "numResults") {
        TAILOR_THROW_IF(!value.is_int() || value.as_int() < 0 || value.as_int() > 500, ErrorCode::InvalidArgument,
                        "numResults must be an integer from 0 to 500");
        num_results = static_cast<std::size_t>(value.as_int());
      } else if (key == "filterValues") {
        TAILOR_THROW_IF(!value.is_object(), ErrorCode::InvalidArgument, "filterValues must be an object");
        values.clear();
        for (const auto& [name, wire] : value.members()) {
          TAILOR_THROW_IF(!wire.is_string(), ErrorCode::InvalidArgument, "filterValues.", name,
                          " must be a string such as \"\\\"a\\\",\\\"b\\\"\"");
          values[name] = parse_filter_value_list(wire.as_string());
        }
      } else {
        TAILOR_THROW(ErrorCode::InvalidArgument, "unknown key \"", key, "\" (expected userId, itemId, itemList, numResults, filterValues)");
      }
    }
    RecommendationResponse response;
    if (!item_list.empty() || input.find("itemList")) {
      TAILOR_THROW_IF(user.empty(), ErrorCode::InvalidArgument, "a ranking line needs a userId");
      RankingRequest r;
      r.user_id = user;
      r.input_list = std::move(item_list);
      r.filter = options.filter;
      r.filter_values = std::move(values);
      response = campaign.get_personalized_ranking(r);
    } else {
      TAILOR_THROW_IF(user.empty() == item.empty(), ErrorCode::InvalidArgument, "a line needs a userId or an itemId");
      RecommendationRequest r;
      r.user_id = user;
      r.item_id = item;
      r.num_results = num_results;
      r.filter = options.filter;
      r.filter_values = std::move(values);
      response = campaign.get_recommendations(r);
    }
    out += ",\"output\":{\"recommendedItems\":[";
    bool scored = false;
    for (std::size_t k = 0; k < response.items.size(); ++k) {
      if (k) out += ",";
      detail::append_json_string(out, response.items[k].item_id);
      scored = scored || response.items[k].score.has_value();
    }
    out += "]";
    if (scored) {
      out += ",\"scores\":[";
      for (std::size_t k = 0; k < response.items.size(); ++k) {
        if (k) out += ",";
        if (response.items[k].score) append_number(out, *response.items[k].score);
        else out += "null";
      }
      out += "]";
    }
    out += "},\"error\":null}";
    ok = true;
  } catch (const std::exception& e) {
    out += ",\"output\":null,\"error\":";
    detail::append_json_string(out, e.what());
    out += "}";
  }
  return out;
}

}  // namespace

BatchReport run_batch_inference(const Campaign& campaign, const std::string& input, const std::string& output,
                                const BatchOptions& options, const std::function<void(std::size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  std::ifstream in(input, std::ios::binary);
  TAILOR_THROW_IF(!in, ErrorCode::Io, "cannot open batch input ", input);
  const std::string tmp = output + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  TAILOR_THROW_IF(!out, ErrorCode::Io, "cannot create batch output ", tmp);
  BatchReport report;
  std::vector<std::string> lines, answers;
  std::vector<char> ok;
  const std::size_t block = std::max<std::size_t>(1, options.lines_per_block);
  try {
    for (;;) {
      lines.clear();
      std::string line;
      while (lines.size() < block && std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not requests
        lines.push_back(std::move(line));
      }
      if (lines.empty()) break;
      answers.assign(lines.size(), std::string());
      ok.assign(lines.size(), 0);
      detail::parallel_for(lines.size(), options.execution.num_threads, [&](std::size_t k) {
        bool good = false;
        answers[k] = answer(campaign, lines[k], options, good);
        ok[k] = good;
      });
      for (std::size_t k = 0; k < lines.size(); ++k) {
        out << answers[k] << '\n';
        ++report.lines_read;
        ok[k] ? ++report.succeeded : ++report.failed;
      }
      TAILOR_THROW_IF(!out, ErrorCode::Io, "cannot write batch output ", tmp);
      if (progress) progress(report.lines_read);
    }
    TAILOR_THROW_IF(in.bad(), ErrorCode::Io, "error while reading batch input ", input);
    out.close();
    TAILOR_THROW_IF(!out, ErrorCode::Io, "cannot write batch output ", tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, output, ec);
    TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot rename ", tmp, " to ", output, ": ", ec.message());
  } catch (...) {
    out.close();
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace tailor
