// SPDX-License-Identifier: MIT
// HttpService's state: the group, a campaign per solution, the saved filters, the counters, and
// the server (server.cpp) once started. Requests are answered by handlers.cpp.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "service/metrics.hpp"
#include "tailor/service/http_service.hpp"
#include "tailor/serving/campaign.hpp"

namespace tailor {

namespace service {
class Server;
/// Deletes a Server where its type is complete (server.cpp).
struct ServerDeleter {
  void operator()(Server* server) const;
};

/// A refusal with Personalize's error name: {"__type": type, "message": message}.
struct ApiError {
  int status;
  std::string type;
  std::string message;
};
}  // namespace service

struct HttpService::Impl {
  Impl(std::unique_ptr<Store> store, std::shared_ptr<LiveDatasetGroup> group,
       std::vector<SolutionVersion> versions, HttpServiceOptions options);
  ~Impl();

  /// One solution served: its campaign and what retraining did.
  struct Served {
    std::string name;
    std::atomic<std::uint64_t> training_runs{0};      // finished, successful or not
    std::atomic<std::uint64_t> training_failures{0};  // of those, failed
    mutable std::mutex mutex;                         // guards the two below
    std::string active_version;                       // the store's id ("" in memory)
    std::string last_error;                           // of the latest retrain, "" when it worked
    std::unique_ptr<Campaign> campaign;               // last: destroyed first
  };
  struct SavedFilter {
    std::string expression;
    Filter filter;
  };

  HttpResponse handle(const HttpRequest& request);
  void log(const std::string& line) const;
  /// Starts a background retrain of every solution (the schedule of --retrain-every).
  void retrain_all();
  std::string metrics_text() const;

  HttpServiceOptions options;
  std::unique_ptr<Store> store;  // null for a group kept in memory
  std::shared_ptr<LiveDatasetGroup> group;
  service::Metrics metrics;
  mutable std::shared_mutex filters_mutex;
  std::map<std::string, SavedFilter, std::less<>> filters;
  std::map<std::string, std::unique_ptr<Served>, std::less<>> solutions;  // after store and group
  std::mutex server_mutex;
  std::unique_ptr<service::Server, service::ServerDeleter> server;

 private:
  HttpResponse route(const HttpRequest& request, service::Endpoint& endpoint);
  Served& solution(std::string_view arn_or_name);
  Filter filter(std::string_view arn_or_name) const;
  HttpResponse recommendations(const std::string& body);
  HttpResponse ranking(const std::string& body);
  HttpResponse events(const std::string& body);
  HttpResponse entities(const std::string& body, bool users);
  HttpResponse deletion(const std::string& body, bool users);
  HttpResponse create_filter(const std::string& body);
  HttpResponse list_filters() const;
  HttpResponse describe_filter(const std::string& name) const;
  HttpResponse delete_filter(const std::string& name);
  HttpResponse list_solutions() const;
  HttpResponse create_solution_version(const std::string& name, const std::string& body);
};

}  // namespace tailor
