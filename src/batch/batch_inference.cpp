// SPDX-License-Identifier: MIT
// Batch inference: read a block of lines, answer them in parallel through the campaign, write the
// block in input order, repeat; memory stays bounded by the block size.
#include "tailor/batch/batch_inference.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "batch/batch_lines.hpp"
#include "detail/parallel.hpp"
#include "io/json.hpp"
#include "tailor/error.hpp"

namespace tailor {

namespace {

// Shortest text that reads back as the same float (std::to_chars: no locale, no printf cost).
// JSON has no NaN or infinity: a model that scores so gets null.
void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(v));
  out.append(buffer, result.ptr);
}

// One input line, parsed into the request it asks for (or the reason it cannot be answered).
struct Line {
  std::string text;
  bool parsed = false;  // valid JSON (its input is echoed as JSON, else as a string)
  std::string error;
  bool ranking = false;
  RecommendationRequest recommend;
  RankingRequest rank;
  RecommendationResponse response;
  bool metadata = false;  // metadata columns were asked for (the request may have been moved)
};

void parse_line(Line& line, const BatchOptions& options) {
  detail::Json input = detail::Json::make_null();
  try {
    input = detail::parse_json(line.text, "input line");
  } catch (const Error& e) {
    line.error = e.what();
    return;
  }
  line.parsed = true;
  line.metadata = !options.metadata_columns.empty();
  try {
    TAILOR_THROW_IF(!input.is_object(), ErrorCode::InvalidArgument,
                    "each line must be a JSON object");
    std::string user, item;
    std::vector<std::string> item_list;
    std::size_t num_results = options.num_results;
    FilterValues values = options.filter_values;
    for (const auto& [key, value] : input.members()) {
      if (key == "userId" || key == "itemId") {
        TAILOR_THROW_IF(!value.is_string(), ErrorCode::InvalidArgument, key, " must be a string");
        (key == "userId" ? user : item) = value.as_string();
      } else if (key == "itemList") {
        TAILOR_THROW_IF(!value.is_array(), ErrorCode::InvalidArgument,
                        "itemList must be an array of strings");
        for (const detail::Json& v : value.items()) {
          TAILOR_THROW_IF(!v.is_string(), ErrorCode::InvalidArgument,
                          "itemList must be an array of strings");
          item_list.push_back(v.as_string());
        }
        line.ranking = true;
      } else if (key == "numResults") {
        constexpr std::size_t kMax = CampaignLimits::kMaxNumResults;
        const bool in_range = value.is_int() && value.as_int() >= 0 &&
                              static_cast<std::size_t>(value.as_int()) <= kMax;
        TAILOR_THROW_IF(!in_range, ErrorCode::InvalidArgument,
                        "numResults must be an integer from 0 to ", kMax);
        num_results = static_cast<std::size_t>(value.as_int());
      } else if (key == "filterValues") {
        TAILOR_THROW_IF(!value.is_object(), ErrorCode::InvalidArgument,
                        "filterValues must be an object");
        values.clear();
        for (const auto& [name, wire] : value.members()) {
          TAILOR_THROW_IF(!wire.is_string(), ErrorCode::InvalidArgument, "filterValues.", name,
                          " must be a string such as \"\\\"a\\\",\\\"b\\\"\"");
          values[name] = parse_filter_value_list(wire.as_string());
        }
      } else {
        TAILOR_THROW(ErrorCode::InvalidArgument, "unknown key \"", key,
                     "\" (expected userId, itemId, itemList, numResults, filterValues)");
      }
    }
    if (line.ranking) {
      TAILOR_THROW_IF(user.empty(), ErrorCode::InvalidArgument, "a ranking line needs a userId");
      line.rank.user_id = user;
      line.rank.input_list = std::move(item_list);
      line.rank.filter = options.filter;
      line.rank.filter_values = std::move(values);
      line.rank.metadata_columns = options.metadata_columns;
    } else {
      TAILOR_THROW_IF(user.empty() == item.empty(), ErrorCode::InvalidArgument,
                      "a line needs a userId or an itemId");
      line.recommend.user_id = user;
      line.recommend.item_id = item;
      line.recommend.num_results = num_results;
      line.recommend.filter = options.filter;
      line.recommend.filter_values = std::move(values);
      line.recommend.metadata_columns = options.metadata_columns;
    }
  } catch (const std::exception& e) {
    line.error = e.what();
  }
}

std::string format_line(const Line& line) {
  std::string out = "{\"input\":";
  if (line.parsed)
    out += line.text;  // the input, as given
  else
    detail::append_json_string(out, line.text);
  if (!line.error.empty()) {
    out += ",\"output\":null,\"error\":";
    detail::append_json_string(out, line.error);
    return out + "}";
  }
  const auto& items = line.response.items;
  out += ",\"output\":{\"recommendedItems\":[";
  bool scored = false;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k) out += ",";
    detail::append_json_string(out, items[k].item_id);
    scored = scored || items[k].score.has_value();
  }
  out += "]";
  if (scored) {
    out += ",\"scores\":[";
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k) out += ",";
      if (items[k].score)
        append_number(out, *items[k].score);
      else
        out += "null";
    }
    out += "]";
  }
  if (std::any_of(items.begin(), items.end(),
                  [](const RecommendedItem& i) { return i.explored; })) {
    out += ",\"exploration\":[";
    for (std::size_t k = 0; k < items.size(); ++k)
      out += std::string(k ? "," : "") + (items[k].explored ? "true" : "false");
    out += "]";
  }
  if (line.metadata) {
    out += ",\"metadata\":[";
    for (std::size_t k = 0; k < items.size(); ++k) {
      out += k ? ",{" : "{";
      for (std::size_t c = 0; c < items[k].metadata.size(); ++c) {
        if (c) out += ",";
        detail::append_json_string(out, items[k].metadata[c].first);
        out += ":";
        detail::append_json_string(out, items[k].metadata[c].second);
      }
      out += "}";
    }
    out += "]";
  }
  return out + "},\"error\":null}";
}

// Temporary files are named <output>.tmp.<random>, next to the output (same file system: the
// final rename is atomic).
constexpr const char* kTmpInfix = ".tmp";

// Whether `a` is named like a temporary file of `b`: "<b>.tmp" (as earlier versions named it) or
// "<b>.tmp.<anything>", in the same directory.
bool is_tmp_name_of(const std::filesystem::path& a, const std::filesystem::path& b) {
  const std::string name = a.filename().string(), base = b.filename().string() + kTmpInfix;
  return a.parent_path() == b.parent_path() && name.compare(0, base.size(), base) == 0 &&
         (name.size() == base.size() || name[base.size()] == '.');
}

// Where a name leads: absolute, with symlinks resolved as far as the path exists.
std::filesystem::path resolved(const std::string& name) {
  // Absolute first: weakly_canonical leaves a relative name whose first part is missing relative.
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(name, ec).lexically_normal();
  std::filesystem::path p = std::filesystem::weakly_canonical(absolute, ec);
  return ec ? absolute : p;
}

// Refuses, before anything is written, a job that would overwrite its input or a file that is not
// a plain output: the same file under two names (./x and x, a symlink, a hard link), an input
// named like the output's temporary file or the reverse, and an existing device, directory or
// FIFO (renaming over /dev/full would replace the device with a regular file).
void check_paths(const std::string& input, const std::string& output) {
  TAILOR_THROW_IF(input.empty(), ErrorCode::InvalidArgument, "the batch input path is empty");
  TAILOR_THROW_IF(output.empty(), ErrorCode::InvalidArgument, "the batch output path is empty");
  struct stat in_stat = {};
  struct stat out_stat = {};
  const bool in_exists = ::stat(input.c_str(), &in_stat) == 0;
  const bool out_exists = ::stat(output.c_str(), &out_stat) == 0;
  TAILOR_THROW_IF(
      out_exists && !S_ISREG(out_stat.st_mode), ErrorCode::InvalidArgument, "batch output ", output,
      " exists and is not a regular file (a device, directory or FIFO is never replaced)");
  const bool same_file = in_exists && out_exists && in_stat.st_dev == out_stat.st_dev &&
                         in_stat.st_ino == out_stat.st_ino;
  const std::filesystem::path in_path = resolved(input), out_path = resolved(output);
  TAILOR_THROW_IF(same_file || in_path == out_path, ErrorCode::InvalidArgument, "batch output ",
                  output, " is the input file ", input, ": the job would overwrite its own input");
  TAILOR_THROW_IF(is_tmp_name_of(in_path, out_path) || is_tmp_name_of(out_path, in_path),
                  ErrorCode::InvalidArgument, "batch input ", input, " and output ", output,
                  " clash: the job writes to a temporary file named <output>", kTmpInfix,
                  ".<random>; choose other names");
}

// A new, uniquely named file next to `output`, opened for writing; its name goes to `tmp`.
// O_EXCL with a random suffix, as mkstemp does, but mode 0666 so that the umask decides the
// output's permissions as for any new file (mkstemp would make it private).
FILE* create_temporary(const std::string& output, std::string& tmp) {
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, ".%06x", static_cast<unsigned>(entropy() & 0xffffffu));
    std::string name = output + kTmpInfix + suffix;
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) continue;
    const int open_error = errno;
    TAILOR_THROW_IF(fd < 0, ErrorCode::Io, "cannot create batch output ", name, ": ",
                    std::strerror(open_error));
    FILE* file = ::fdopen(fd, "wb");
    if (!file) {
      const int saved = errno;
      ::close(fd);
      ::unlink(name.c_str());
      TAILOR_THROW(ErrorCode::Io, "cannot open batch output ", name, ": ", std::strerror(saved));
    }
    tmp = std::move(name);
    return file;
  }
  TAILOR_THROW(ErrorCode::Io, "cannot create a unique temporary file next to batch output ",
               output);
}

}  // namespace

namespace detail {

std::vector<std::string> answer_batch_lines(const Campaign& campaign,
                                            std::vector<std::string> texts,
                                            const BatchOptions& options, std::size_t& failed) {
  std::vector<Line> lines(texts.size());
  for (std::size_t k = 0; k < texts.size(); ++k) lines[k].text = std::move(texts[k]);
  const int threads = options.execution.num_threads;
  detail::parallel_for(lines.size(), threads,
                       [&](std::size_t k) { parse_line(lines[k], options); });
  // Recommendation lines go to the campaign together (ALS scores them with matrix products).
  std::vector<std::size_t> recommend_lines, rank_lines;
  std::vector<RecommendationRequest> requests;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    if (!lines[k].error.empty()) continue;
    if (lines[k].ranking) {
      rank_lines.push_back(k);
    } else {
      recommend_lines.push_back(k);
      requests.push_back(std::move(lines[k].recommend));
    }
  }
  std::vector<RecommendationResult> results = recommend_all(campaign, requests, options.execution);
  for (std::size_t j = 0; j < recommend_lines.size(); ++j) {
    Line& line = lines[recommend_lines[j]];
    line.error = std::move(results[j].message);
    line.response = std::move(results[j].response);
  }
  detail::parallel_for(rank_lines.size(), threads, [&](std::size_t j) {
    Line& line = lines[rank_lines[j]];
    try {
      line.response = campaign.get_personalized_ranking(line.rank);
    } catch (const std::exception& e) {
      line.error = e.what();
    }
  });
  std::vector<std::string> formatted(lines.size());
  detail::parallel_for(lines.size(), threads,
                       [&](std::size_t k) { formatted[k] = format_line(lines[k]); });
  failed = 0;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    formatted[k] += '\n';
    if (!lines[k].error.empty()) ++failed;
  }
  return formatted;
}

void read_batch_lines(std::istream& in, std::size_t count, std::vector<std::string>& lines) {
  lines.clear();
  std::string text;
  while (lines.size() < count && std::getline(in, text)) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos)
      continue;  // blank lines are not requests
    lines.push_back(std::move(text));
  }
}

void check_batch_paths(const std::string& input, const std::string& output) {
  check_paths(input, output);
}

FILE* create_batch_temporary(const std::string& output, std::string& tmp) {
  return create_temporary(output, tmp);
}

void publish_batch_output(FILE*& out, const std::string& tmp, const std::string& output) {
  const bool written = !std::ferror(out);
  const int closed = std::fclose(out);
  out = nullptr;
  TAILOR_THROW_IF(!written || closed != 0, ErrorCode::Io, "cannot write batch output ", tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, output, ec);
  TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot rename ", tmp, " to ", output, ": ", ec.message());
}

}  // namespace detail

BatchReport run_batch_inference(const Campaign& campaign, const std::string& input,
                                const std::string& output, const BatchOptions& options,
                                const std::function<void(std::size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  check_paths(input, output);
  std::ifstream in(input, std::ios::binary);
  TAILOR_THROW_IF(!in, ErrorCode::Io, "cannot open batch input ", input);
  std::string tmp;
  FILE* out = create_temporary(output, tmp);
  BatchReport report;
  std::vector<std::string> lines;
  const std::size_t block = std::max<std::size_t>(1, options.lines_per_block);
  try {
    for (;;) {
      detail::read_batch_lines(in, block, lines);
      if (lines.empty()) break;
      std::size_t failed = 0;
      const std::vector<std::string> formatted =
          detail::answer_batch_lines(campaign, std::move(lines), options, failed);
      for (const std::string& line : formatted) {
        std::fwrite(line.data(), 1, line.size(), out);
      }
      report.lines_read += formatted.size();
      report.failed += failed;
      report.succeeded += formatted.size() - failed;
      TAILOR_THROW_IF(std::ferror(out), ErrorCode::Io, "cannot write batch output ", tmp);
      if (progress) progress(report.lines_read);
    }
    TAILOR_THROW_IF(in.bad(), ErrorCode::Io, "error while reading batch input ", input);
    detail::publish_batch_output(out, tmp, output);
  } catch (...) {
    if (out) std::fclose(out);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace tailor
