// SPDX-License-Identifier: MIT
// The endpoints of HttpService: authentication, routing, request bodies read with simdjson (the
// field names of Personalize's runtime API), and answers in its shapes and error names.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <new>
#include <string_view>
#include <unordered_set>

#include "io/json.hpp"
#include "service/service_impl.hpp"
#include "serving/response_json.hpp"
#include "tailor/io/records.hpp"

namespace tailor {

using service::ApiError;
using service::Endpoint;
namespace dom = simdjson::dom;

namespace {

constexpr const char* kInvalid = "InvalidInputException";
constexpr const char* kNotFound = "ResourceNotFoundException";
// Personalize's PutEvents, PutUsers and PutItems take at most this many records a call.
constexpr std::size_t kMaxRecordsPerCall = 10;

ApiError invalid(std::string message) { return {400, kInvalid, std::move(message)}; }

std::string json_quoted(std::string_view s) {
  std::string out;
  detail::append_json_string(out, s);
  return out;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(int status, const std::string& type, const std::string& message) {
  return json_response(
      status, "{\"__type\":" + json_quoted(type) + ",\"message\":" + json_quoted(message) + "}");
}

// Compares every byte whatever the first difference, so that the time taken does not tell a
// client how much of a guessed token was right.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  for (std::size_t k = 0; k < n; ++k) {
    const unsigned char x = k < a.size() ? static_cast<unsigned char>(a[k]) : 0;
    const unsigned char y = k < b.size() ? static_cast<unsigned char>(b[k]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    char c = text[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[k]) return false;
  }
  return true;
}

// A name, or the last part of an ARN ("arn:aws:personalize:...:filter/NAME").
std::string_view name_of(std::string_view arn_or_name) {
  const auto slash = arn_or_name.rfind('/');
  return slash == std::string_view::npos ? arn_or_name : arn_or_name.substr(slash + 1);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (std::size_t k = 0; k < name.size(); ++k) {
    const char c = name[k];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (k == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

// --- request bodies ----------------------------------------------------------------------------

dom::element parse_body(const std::string& body) {
  // One parser per thread: its buffers grow to the largest body seen and are reused.
  thread_local dom::parser parser;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw invalid("the request needs a JSON object as its body");
  }
  dom::element doc;
  if (const auto error = parser.parse(body.data(), body.size()).get(doc)) {
    throw invalid(std::string("malformed JSON: ") + simdjson::error_message(error));
  }
  if (!doc.is_object()) throw invalid("the request body must be a JSON object");
  return doc;
}

// Calls fn(key, value) for each member that is not null; a key given twice is an error.
template <typename Fn>
void each_member(dom::object object, std::string_view where, Fn&& fn) {
  // A set, not a list: a body under the size limit can hold 100,000 keys, and comparing each with
  // every one before it took seconds of a worker.
  std::unordered_set<std::string_view> seen;
  for (dom::key_value_pair member : object) {
    if (!seen.insert(member.key).second) {
      throw invalid(std::string(where) + std::string(member.key) + " twice");
    }
    if (member.value.is_null()) continue;
    fn(member.key, member.value);
  }
}

std::string string_of(dom::element e, std::string_view name) {
  std::string_view s;
  if (e.get_string().get(s)) throw invalid(std::string(name) + " must be a string");
  return std::string(s);
}

dom::object object_of(dom::element e, std::string_view name) {
  dom::object o;
  if (e.get_object().get(o)) throw invalid(std::string(name) + " must be an object");
  return o;
}

dom::array array_of(dom::element e, std::string_view name) {
  dom::array a;
  if (e.get_array().get(a)) throw invalid(std::string(name) + " must be an array");
  return a;
}

std::vector<std::string> strings_of(dom::element e, std::string_view name) {
  std::vector<std::string> out;
  for (dom::element v : array_of(e, name)) out.push_back(string_of(v, name));
  return out;
}

bool bool_of(dom::element e, std::string_view name) {
  bool v = false;
  if (e.get_bool().get(v)) throw invalid(std::string(name) + " must be true or false");
  return v;
}

// metadataColumns: {"ITEMS": ["COLUMN", ...]}, Personalize's shape (items columns only: the
// responses list items). The campaign checks the columns against the schema.
std::vector<std::string> metadata_columns_of(dom::element e) {
  std::vector<std::string> columns;
  each_member(
      object_of(e, "metadataColumns"),
      "metadataColumns: ", [&](std::string_view k, dom::element v) {
        if (k != "ITEMS") {
          throw invalid("metadataColumns: unknown dataset " + json_quoted(k) + " (expected ITEMS)");
        }
        columns = strings_of(v, "metadataColumns.ITEMS");
      });
  return columns;
}

std::size_t count_of(dom::element e, std::string_view name) {
  std::int64_t v = 0;
  if (e.get_int64().get(v) || v < 0 || v > 1000000) {
    throw invalid(std::string(name) + " must be a whole number >= 0");
  }
  return static_cast<std::size_t>(v);
}

// filterValues: {"NAME": "\"v1\",\"v2\""}, Personalize's wire form.
FilterValues filter_values_of(dom::element e) {
  FilterValues values;
  each_member(object_of(e, "filterValues"), "filterValues: ", [&](std::string_view k, auto v) {
    values[std::string(k)] =
        parse_filter_value_list(string_of(v, "filterValues." + std::string(k)));
  });
  return values;
}

std::vector<std::pair<std::string, std::string>> context_of(dom::element e) {
  std::vector<std::pair<std::string, std::string>> context;
  each_member(object_of(e, "context"), "context: ", [&](std::string_view k, auto v) {
    context.emplace_back(std::string(k), string_of(v, "context." + std::string(k)));
  });
  return context;
}

// One record of a put call as the JSON Lines reader takes it: the record's own text with the
// request-wide ids (userId and sessionId of PutEvents) put in front.
std::string record_text(dom::element record, const std::string& prefix) {
  const std::string text = simdjson::to_string(record);
  if (prefix.empty()) return text;
  if (text == "{}") return "{" + prefix + "}";
  return "{" + prefix + "," + text.substr(1);
}

std::string put_report_json(const PutReport& r) {
  // duplicates: accepted events whose eventId was stored before (a retry), not stored again; a
  // client counting what it stored must not count them twice.
  std::string out = "{\"accepted\":" + std::to_string(r.accepted) +
                    ",\"rejected\":" + std::to_string(r.rejected) +
                    ",\"duplicates\":" + std::to_string(r.duplicates) + ",\"errors\":[";
  for (std::size_t k = 0; k < r.errors.size(); ++k) {
    if (k) out += ",";
    // RowError::line numbers the records of the call from 1; the API numbers them from 0.
    out += "{\"index\":" + std::to_string(r.errors[k].line - 1) +
           ",\"field\":" + json_quoted(r.errors[k].column) +
           ",\"reason\":" + json_quoted(r.errors[k].reason) + "}";
  }
  return out + "]}";
}

// A put whose records were all refused is a bad request; one that stored some is answered 200
// with what was refused, as the CLI's put commands report it.
HttpResponse put_response(const PutReport& r, const char* list_name) {
  if (r.accepted == 0 && r.rejected > 0) {
    std::string message = std::string("no record of ") + list_name + " was accepted";
    for (const RowError& e : r.errors) {
      message += "; " + std::string(list_name) + "[" + std::to_string(e.line - 1) + "]" +
                 (e.column.empty() ? "" : "." + e.column) + ": " + e.reason;
    }
    throw invalid(message);
  }
  return json_response(200, put_report_json(r));
}

}  // namespace

// --- the service's state -------------------------------------------------------------------------

HttpService::Impl::Impl(std::unique_ptr<Store> store_, std::shared_ptr<LiveDatasetGroup> group_,
                        std::vector<SolutionVersion> versions, HttpServiceOptions options_)
    : options(std::move(options_)), store(std::move(store_)), group(std::move(group_)) {
  TAILOR_THROW_IF(!group, ErrorCode::InvalidArgument, "HttpService needs a dataset group");
  TAILOR_THROW_IF(versions.empty(), ErrorCode::NotFound,
                  "no trained solution to serve (run tailor train)");
  for (SolutionVersion& version : versions) {
    auto served = std::make_unique<Served>();
    served->name = version.config().name;
    TAILOR_THROW_IF(solutions.count(served->name), ErrorCode::InvalidArgument, "solution \"",
                    served->name, "\" given twice");
    if (store) served->active_version = store->active_version(served->name);
    Served* s = served.get();
    CampaignOptions co;
    co.training.mode = options.retrain_mode;
    co.retrain_every_events = options.retrain_after_events;
    co.on_retrain_error = [this, s](const std::string& error) {
      ++s->training_failures;
      ++s->training_runs;
      {
        std::lock_guard<std::mutex> lock(s->mutex);
        s->last_error = error;
      }
      log("retraining " + s->name + " failed; the previous version keeps serving: " + error);
    };
    co.on_retrain_success = [this, s](const SolutionVersion& trained) {
      std::string id, error;
      if (store) {
        try {
          id = store->save_version(trained);
        } catch (const std::exception& e) {
          error = std::string("trained and serving, but not saved: ") + e.what();
        }
      }
      if (!error.empty()) ++s->training_failures;
      ++s->training_runs;
      {
        std::lock_guard<std::mutex> lock(s->mutex);
        if (!id.empty()) s->active_version = id;
        s->last_error = error;
      }
      log(error.empty() ? "retrained " + s->name + (id.empty() ? "" : ": serving version " + id)
                        : "retraining " + s->name + ": " + error);
    };
    served->campaign = std::make_unique<Campaign>(group, std::move(version), std::move(co));
    solutions.emplace(served->name, std::move(served));
  }
  if (store) {
    for (const auto& saved : store->filters()) {
      const std::string& name = saved.first;
      const std::string& expression = saved.second;  // a lambda's: no structured binding
      try {
        Filter f =
            group->read([&](const DatasetGroup& g) { return Filter::compile(expression, g); });
        filters.emplace(name, SavedFilter{expression, std::move(f)});
      } catch (const std::exception& e) {
        log("filter " + name + " is not served: " + e.what());
      }
    }
  }
}

void HttpService::Impl::log(const std::string& line) const {
  if (options.log) {
    options.log(line);
  } else {
    std::fprintf(stderr, "tailor serve: %s\n", line.c_str());
  }
}

void HttpService::Impl::retrain_all() {
  for (auto& [name, served] : solutions) served->campaign->retrain_async();
}

std::string HttpService::Impl::metrics_text() const {
  std::string out;
  metrics.append_text(out);
  out +=
      "# HELP tailor_active_version The version each solution serves (its store id).\n"
      "# TYPE tailor_active_version gauge\n";
  for (const auto& [name, s] : solutions) {
    std::lock_guard<std::mutex> lock(s->mutex);
    out += "tailor_active_version{solution=\"" + name + "\",version=\"" + s->active_version +
           "\"} 1\n";
  }
  out +=
      "# HELP tailor_training_runs_total Retrains finished, by solution.\n"
      "# TYPE tailor_training_runs_total counter\n";
  for (const auto& [name, s] : solutions) {
    out += "tailor_training_runs_total{solution=\"" + name + "\"} " +
           std::to_string(s->training_runs.load()) + "\n";
  }
  out +=
      "# HELP tailor_training_failures_total Retrains that failed, by solution.\n"
      "# TYPE tailor_training_failures_total counter\n";
  for (const auto& [name, s] : solutions) {
    out += "tailor_training_failures_total{solution=\"" + name + "\"} " +
           std::to_string(s->training_failures.load()) + "\n";
  }
  return out;
}

// --- routing -------------------------------------------------------------------------------------

HttpResponse HttpService::Impl::handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  Endpoint endpoint = Endpoint::Other;
  HttpResponse response;
  try {
    if (!options.token.empty()) {
      const std::string_view auth = request.authorization;
      if (auth.empty()) {
        throw ApiError{401, "MissingAuthenticationTokenException",
                       "this server needs an Authorization: Bearer <token> header"};
      }
      std::string_view given = iequals_prefix(auth, "bearer ") ? auth.substr(7) : "";
      while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
      while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
      if (!same_secret(given, options.token)) {
        throw ApiError{401, "UnrecognizedClientException", "the bearer token is not valid"};
      }
    }
    response = route(request, endpoint);
  } catch (const ApiError& e) {
    response = error_response(e.status, e.type, e.message);
    if (e.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  } catch (const Error& e) {
    switch (e.code()) {
      case ErrorCode::InvalidArgument:
      case ErrorCode::ParseError:
      case ErrorCode::SchemaMismatch:
      case ErrorCode::NotTrained:
        response = error_response(400, kInvalid, e.what());
        break;
      case ErrorCode::NotFound:
        response = error_response(404, kNotFound, e.what());
        break;
      case ErrorCode::Busy:
        response = error_response(429, "LimitExceededException", e.what());
        break;
      default:
        log(std::string("internal failure: ") + e.what());
        response = error_response(500, "InternalFailure", e.what());
    }
  } catch (const std::bad_alloc&) {
    response = error_response(500, "InternalFailure", "out of memory");
  } catch (const std::exception& e) {
    log(std::string("internal failure: ") + e.what());
    response = error_response(500, "InternalFailure", e.what());
  } catch (...) {
    response = error_response(500, "InternalFailure", "unknown failure");
  }
  metrics.record(endpoint, response.status,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return response;
}

HttpResponse HttpService::Impl::route(const HttpRequest& request, Endpoint& endpoint) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string& method = request.method;
  struct Route {
    std::string_view path;
    const char* method;
    Endpoint endpoint;
  };
  static const Route kExact[] = {
      {"/recommendations", "POST", Endpoint::Recommendations},
      {"/personalize-ranking", "POST", Endpoint::PersonalizeRanking},
      {"/events", "POST", Endpoint::Events},
      {"/users", "POST", Endpoint::Users},
      {"/items", "POST", Endpoint::Items},
      {"/delete-users", "POST", Endpoint::DeleteUsers},
      {"/delete-items", "POST", Endpoint::DeleteItems},
      {"/filters", "POST", Endpoint::CreateFilter},
      {"/filters", "GET", Endpoint::ListFilters},
      {"/solutions", "GET", Endpoint::ListSolutions},
      {"/health", "GET", Endpoint::Health},
      {"/metrics", "GET", Endpoint::Metrics},
  };
  std::string allowed;
  std::optional<Endpoint> found;
  for (const Route& r : kExact) {
    if (r.path != path) continue;
    allowed += (allowed.empty() ? "" : ", ") + std::string(r.method);
    if (method == r.method) found = r.endpoint;
  }
  std::string name;  // of /filters/{name} and /solutions/{name}/versions
  constexpr std::string_view kFilters = "/filters/", kSolutions = "/solutions/",
                             kVersions = "/versions";
  if (!found && allowed.empty()) {
    if (path.substr(0, kFilters.size()) == kFilters && path.size() > kFilters.size()) {
      name = std::string(path.substr(kFilters.size()));
      allowed = "GET, DELETE";
      if (method == "GET") found = Endpoint::DescribeFilter;
      if (method == "DELETE") found = Endpoint::DeleteFilter;
    } else if (path.substr(0, kSolutions.size()) == kSolutions &&
               path.size() > kSolutions.size() + kVersions.size() &&
               path.substr(path.size() - kVersions.size()) == kVersions) {
      name = std::string(
          path.substr(kSolutions.size(), path.size() - kSolutions.size() - kVersions.size()));
      allowed = "POST";
      if (method == "POST") found = Endpoint::CreateSolutionVersion;
    }
  }
  if (!found) {
    if (allowed.empty()) {
      throw ApiError{404, "UnknownOperationException",
                     "no operation at " + std::string(path.substr(0, 200))};
    }
    HttpResponse r =
        error_response(405, "MethodNotAllowedException",
                       method.substr(0, 20) + " is not allowed here (" + allowed + ")");
    r.headers.emplace_back("Allow", allowed);
    return r;
  }
  endpoint = *found;
  switch (endpoint) {
    case Endpoint::Recommendations:
      return recommendations(request.body);
    case Endpoint::PersonalizeRanking:
      return ranking(request.body);
    case Endpoint::Events:
      return events(request.body);
    case Endpoint::Users:
      return entities(request.body, true);
    case Endpoint::Items:
      return entities(request.body, false);
    case Endpoint::DeleteUsers:
      return deletion(request.body, true);
    case Endpoint::DeleteItems:
      return deletion(request.body, false);
    case Endpoint::CreateFilter:
      return create_filter(request.body);
    case Endpoint::ListFilters:
      return list_filters();
    case Endpoint::DescribeFilter:
      return describe_filter(name);
    case Endpoint::DeleteFilter:
      return delete_filter(name);
    case Endpoint::ListSolutions:
      return list_solutions();
    case Endpoint::CreateSolutionVersion:
      return create_solution_version(name, request.body);
    case Endpoint::Health:
      return json_response(
          200, "{\"status\":\"ok\",\"solutions\":" + std::to_string(solutions.size()) + "}");
    case Endpoint::Metrics: {
      HttpResponse r = json_response(200, metrics_text());
      r.content_type = "text/plain; version=0.0.4";
      return r;
    }
    default:
      break;
  }
  throw ApiError{500, "InternalFailure", "unrouted endpoint"};
}

HttpService::Impl::Served& HttpService::Impl::solution(std::string_view arn_or_name) {
  if (arn_or_name.empty()) {
    if (solutions.size() == 1) return *solutions.begin()->second;
    std::string list;
    for (const auto& [name, s] : solutions) list += (list.empty() ? "" : ", ") + name;
    throw invalid("campaignArn is required: this group serves " + std::to_string(solutions.size()) +
                  " solutions (" + list + ")");
  }
  const std::string_view name = name_of(arn_or_name);
  const auto at = solutions.find(name);
  if (at == solutions.end()) {
    throw ApiError{404, kNotFound,
                   "no solution named " + json_quoted(name.substr(0, 100)) + " is served"};
  }
  return *at->second;
}

Filter HttpService::Impl::filter(std::string_view arn_or_name) const {
  const std::string_view name = name_of(arn_or_name);
  std::shared_lock<std::shared_mutex> lock(filters_mutex);
  const auto at = filters.find(name);
  if (at == filters.end()) {
    throw ApiError{404, kNotFound, "no filter named " + json_quoted(name.substr(0, 100))};
  }
  return at->second.filter;
}

// --- runtime endpoints ---------------------------------------------------------------------------

HttpResponse HttpService::Impl::recommendations(const std::string& body) {
  RecommendationRequest r;
  std::string campaign, filter_name;
  each_member(
      object_of(parse_body(body), "the body"), "", [&](std::string_view key, dom::element v) {
        if (key == "userId") {
          r.user_id = string_of(v, key);
        } else if (key == "itemId") {
          r.item_id = string_of(v, key);
        } else if (key == "numResults") {
          r.num_results = count_of(v, key);
        } else if (key == "filterArn") {
          filter_name = string_of(v, key);
        } else if (key == "filterValues") {
          r.filter_values = filter_values_of(v);
        } else if (key == "context") {
          r.context = context_of(v);
        } else if (key == "campaignArn") {
          campaign = string_of(v, key);
        } else if (key == "promotions") {
          dom::array list = array_of(v, key);
          if (list.size() > 1) throw invalid("promotions holds at most one promotion");
          for (dom::element p : list) {
            Promotion promotion;
            each_member(object_of(p, "promotions[0]"),
                        "promotions[0]: ", [&](std::string_view k, dom::element pv) {
                          if (k == "name") {
                            promotion.name = string_of(pv, "promotions[0].name");
                          } else if (k == "percentPromotedItems") {
                            promotion.percent_promoted_items = static_cast<int>(
                                std::min<std::size_t>(count_of(pv, "percentPromotedItems"), 1000));
                          } else if (k == "filterArn") {
                            promotion.filter = filter(string_of(pv, "promotions[0].filterArn"));
                          } else if (k == "filterValues") {
                            promotion.filter_values = filter_values_of(pv);
                          } else {
                            throw invalid("promotions[0]: unknown key " + json_quoted(k) +
                                          " (expected name, percentPromotedItems, filterArn, "
                                          "filterValues)");
                          }
                        });
            r.promotion = std::move(promotion);
          }
        } else if (key == "metadataColumns") {
          r.metadata_columns = metadata_columns_of(v);
        } else if (key == "explain") {
          r.explain = bool_of(v, key);
        } else {
          throw invalid("unknown key " + json_quoted(key) +
                        " (expected userId, itemId, numResults, filterArn, filterValues, context, "
                        "promotions, metadataColumns, explain, campaignArn)");
        }
      });
  if (r.user_id.empty() && r.item_id.empty()) throw invalid("give userId or itemId");
  if (!filter_name.empty()) r.filter = filter(filter_name);
  Served& s = solution(campaign);
  return json_response(200, detail::response_json(s.campaign->get_recommendations(r), "itemList"));
}

HttpResponse HttpService::Impl::ranking(const std::string& body) {
  RankingRequest r;
  std::string campaign, filter_name;
  bool has_list = false;
  each_member(object_of(parse_body(body), "the body"), "",
              [&](std::string_view key, dom::element v) {
                if (key == "userId") {
                  r.user_id = string_of(v, key);
                } else if (key == "inputList") {
                  r.input_list = strings_of(v, key);
                  has_list = true;
                } else if (key == "filterArn") {
                  filter_name = string_of(v, key);
                } else if (key == "filterValues") {
                  r.filter_values = filter_values_of(v);
                } else if (key == "context") {
                  r.context = context_of(v);
                } else if (key == "campaignArn") {
                  campaign = string_of(v, key);
                } else if (key == "metadataColumns") {
                  r.metadata_columns = metadata_columns_of(v);
                } else {
                  throw invalid("unknown key " + json_quoted(key) +
                                " (expected userId, inputList, filterArn, filterValues, context, "
                                "metadataColumns, campaignArn)");
                }
              });
  if (r.user_id.empty()) throw invalid("userId is required");
  if (!has_list) throw invalid("inputList is required");
  if (!filter_name.empty()) r.filter = filter(filter_name);
  Served& s = solution(campaign);
  return json_response(
      200, detail::response_json(s.campaign->get_personalized_ranking(r), "personalizedRanking"));
}

HttpResponse HttpService::Impl::events(const std::string& body) {
  std::string prefix;  // userId and sessionId, given to every event
  std::optional<dom::array> list;
  each_member(object_of(parse_body(body), "the body"), "",
              [&](std::string_view key, dom::element v) {
                if (key == "userId" || key == "sessionId") {
                  prefix += (prefix.empty() ? "\"" : ",\"") + std::string(key) +
                            "\":" + json_quoted(string_of(v, key));
                } else if (key == "eventList") {
                  list = array_of(v, key);
                } else if (key == "trackingId") {
                  string_of(v, key);  // an event tracker's id: accepted, not used
                } else {
                  throw invalid("unknown key " + json_quoted(key) +
                                " (expected trackingId, userId, sessionId, eventList)");
                }
              });
  if (!list || list->size() == 0) throw invalid("eventList must hold 1 to 10 events");
  if (list->size() > kMaxRecordsPerCall) {
    throw invalid("eventList holds " + std::to_string(list->size()) + " events; at most " +
                  std::to_string(kMaxRecordsPerCall));
  }
  std::vector<EventRecord> records;
  std::size_t k = 0;
  for (dom::element e : *list) {
    const std::string where = "eventList[" + std::to_string(k++) + "]";
    object_of(e, where);
    try {
      records.push_back(parse_event_json(record_text(e, prefix)));
    } catch (const RecordError& error) {
      throw invalid(where + (error.field().empty() ? "" : "." + error.field()) + ": " +
                    error.what());
    }
  }
  // With one campaign, through it: an event quoting one of its recommendation ids without an
  // impression list gets that response's items as impressions.
  const PutReport report = solutions.size() == 1
                               ? solutions.begin()->second->campaign->put_events(records)
                               : group->put_events(records);
  metrics.events_accepted += report.accepted;
  metrics.events_rejected += report.rejected;
  return put_response(report, "eventList");
}

HttpResponse HttpService::Impl::entities(const std::string& body, bool users) {
  const char* list_key = users ? "users" : "items";
  std::optional<dom::array> list;
  each_member(object_of(parse_body(body), "the body"), "",
              [&](std::string_view key, dom::element v) {
                if (key == list_key) {
                  list = array_of(v, key);
                } else if (key == "datasetArn") {
                  string_of(v, key);  // the group is the served one: accepted, not used
                } else {
                  throw invalid("unknown key " + json_quoted(key) + " (expected datasetArn, " +
                                list_key + ")");
                }
              });
  if (!list || list->size() == 0 || list->size() > kMaxRecordsPerCall) {
    throw invalid(std::string(list_key) + " must hold 1 to 10 records");
  }
  std::vector<EntityRecord> records;
  std::size_t k = 0;
  for (dom::element e : *list) {
    const std::string where = std::string(list_key) + "[" + std::to_string(k++) + "]";
    object_of(e, where);
    try {
      records.push_back(
          parse_entity_json(record_text(e, ""), users ? DatasetKind::Users : DatasetKind::Items));
    } catch (const RecordError& error) {
      throw invalid(where + (error.field().empty() ? "" : "." + error.field()) + ": " +
                    error.what());
    }
  }
  const PutReport report = users ? group->put_users(records) : group->put_items(records);
  return put_response(report, list_key);
}

HttpResponse HttpService::Impl::deletion(const std::string& body, bool users) {
  const char* list_key = users ? "userIds" : "itemIds";
  std::optional<std::vector<std::string>> ids;
  each_member(object_of(parse_body(body), "the body"), "",
              [&](std::string_view key, dom::element v) {
                if (key != list_key)
                  throw invalid("unknown key " + json_quoted(key) + " (expected " + list_key + ")");
                ids = strings_of(v, key);
              });
  if (!ids || ids->empty()) throw invalid(std::string(list_key) + " must list at least one id");
  const DeleteReport r = users ? group->delete_users(*ids) : group->delete_items(*ids);
  return json_response(200, "{\"deleted\":" + std::to_string(r.deleted) +
                                ",\"unknown\":" + std::to_string(r.unknown) +
                                ",\"interactions\":" + std::to_string(r.interactions) + "}");
}

// --- admin endpoints -----------------------------------------------------------------------------

HttpResponse HttpService::Impl::create_filter(const std::string& body) {
  std::string name, expression;
  each_member(object_of(parse_body(body), "the body"), "",
              [&](std::string_view key, dom::element v) {
                if (key == "name") {
                  name = string_of(v, key);
                } else if (key == "filterExpression") {
                  expression = string_of(v, key);
                } else if (key == "datasetGroupArn") {
                  string_of(v, key);  // the served group: accepted, not used
                } else {
                  throw invalid("unknown key " + json_quoted(key) +
                                " (expected name, filterExpression, datasetGroupArn)");
                }
              });
  if (!valid_name(name)) {
    throw invalid("name must be 1-63 characters of [A-Za-z0-9_-], starting with a letter or digit");
  }
  if (expression.empty()) throw invalid("filterExpression is required");
  Filter compiled =
      group->read([&](const DatasetGroup& g) { return Filter::compile(expression, g); });
  // One writer at a time, so that the catalog and the served filters agree.
  std::unique_lock<std::shared_mutex> lock(filters_mutex);
  if (store) store->save_filter(name, expression);
  filters.insert_or_assign(name, SavedFilter{expression, std::move(compiled)});
  return json_response(200, "{\"filterArn\":" + json_quoted(name) + "}");
}

HttpResponse HttpService::Impl::list_filters() const {
  std::shared_lock<std::shared_mutex> lock(filters_mutex);
  std::string out = "{\"Filters\":[";
  bool first = true;
  for (const auto& [name, f] : filters) {
    out += std::string(first ? "" : ",") + "{\"name\":" + json_quoted(name) +
           ",\"filterArn\":" + json_quoted(name) +
           ",\"filterExpression\":" + json_quoted(f.expression) + ",\"status\":\"ACTIVE\"}";
    first = false;
  }
  return json_response(200, out + "]}");
}

HttpResponse HttpService::Impl::describe_filter(const std::string& name) const {
  std::shared_lock<std::shared_mutex> lock(filters_mutex);
  const auto at = filters.find(name);
  if (at == filters.end()) {
    throw ApiError{404, kNotFound, "no filter named " + json_quoted(name.substr(0, 100))};
  }
  return json_response(200, "{\"filter\":{\"name\":" + json_quoted(name) +
                                ",\"filterArn\":" + json_quoted(name) + ",\"filterExpression\":" +
                                json_quoted(at->second.expression) + ",\"status\":\"ACTIVE\"}}");
}

HttpResponse HttpService::Impl::delete_filter(const std::string& name) {
  std::unique_lock<std::shared_mutex> lock(filters_mutex);
  const auto at = filters.find(name);
  if (at == filters.end()) {
    throw ApiError{404, kNotFound, "no filter named " + json_quoted(name.substr(0, 100))};
  }
  if (store) store->delete_filter(name);
  filters.erase(at);
  return json_response(200, "{}");
}

HttpResponse HttpService::Impl::list_solutions() const {
  std::string out = "{\"solutions\":[";
  bool first = true;
  for (const auto& [name, s] : solutions) {
    const std::shared_ptr<const SolutionVersion> v = s->campaign->version();
    std::string active, error;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      active = s->active_version;
      error = s->last_error;
    }
    out += std::string(first ? "" : ",") + "{\"name\":" + json_quoted(name) +
           ",\"solutionArn\":" + json_quoted(name) +
           ",\"status\":\"ACTIVE\",\"recipe\":" + json_quoted(v->config().recipe) +
           ",\"activeVersion\":" + json_quoted(active) + ",\"trainingMode\":\"" +
           (v->mode() == TrainingMode::Update ? "UPDATE" : "FULL") + "\",\"retrainMode\":\"" +
           (options.retrain_mode == TrainingMode::Update ? "UPDATE" : "FULL") +
           "\",\"trainingRuns\":" + std::to_string(s->training_runs.load()) +
           ",\"trainingFailures\":" + std::to_string(s->training_failures.load()) +
           ",\"lastTrainingError\":" + (error.empty() ? "null" : json_quoted(error)) + "}";
    first = false;
  }
  return json_response(200, out + "]}");
}

HttpResponse HttpService::Impl::create_solution_version(const std::string& name,
                                                        const std::string& body) {
  Served& s = solution(name);
  const char* mode = options.retrain_mode == TrainingMode::Update ? "UPDATE" : "FULL";
  // No body, or CreateSolutionVersion's: the mode is the server's (--retrain-mode), so a request
  // for another one is refused rather than done differently.
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    each_member(object_of(parse_body(body), "the body"), "",
                [&](std::string_view key, dom::element v) {
                  if (key == "trainingMode") {
                    const std::string asked = string_of(v, key);
                    if (asked != mode) {
                      throw invalid("trainingMode " + asked + ": this server retrains in " + mode +
                                    " mode (--retrain-mode)");
                    }
                  } else if (key == "solutionArn") {
                    string_of(v, key);  // the path names the solution
                  } else {
                    throw invalid("unknown key " + json_quoted(std::string(key)) +
                                  " (expected trainingMode, solutionArn)");
                  }
                });
  }
  if (!s.campaign->retrain_async()) {
    throw ApiError{409, "ResourceInUseException",
                   "solution " + json_quoted(s.name) + " is already training a new version"};
  }
  return json_response(202, "{\"solutionArn\":" + json_quoted(s.name) +
                                ",\"status\":\"CREATE IN_PROGRESS\",\"trainingMode\":\"" + mode +
                                "\"}");
}

}  // namespace tailor
