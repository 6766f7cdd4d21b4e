// SPDX-License-Identifier: MIT
// HttpService: Personalize's real-time API (GetRecommendations, GetPersonalizedRanking, PutEvents,
// PutUsers, PutItems) and a few admin calls over HTTP/1.1, for one dataset group, inside any C++
// process. `tailor serve` is a thin command around it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tailor/export.hpp"
#include "tailor/persistence/persistence.hpp"
#include "tailor/serving/live_group.hpp"
#include "tailor/solution/solution.hpp"

namespace tailor {

/// How an HttpService serves, limits and retrains.
struct HttpServiceOptions {
  /// A request body longer than this is refused with 413 before it is read.
  std::size_t max_body_bytes = std::size_t{1} << 20;
  /// A request line plus headers longer than this is refused with 431.
  std::size_t max_header_bytes = std::size_t{8} << 10;
  /// A request must arrive whole within this time of its first byte; else the connection closes.
  std::chrono::milliseconds read_timeout{10000};
  /// A keep-alive connection without a request for this long is closed.
  std::chrono::milliseconds idle_timeout{60000};
  /// A response must be sent within this time; else the connection closes.
  std::chrono::milliseconds write_timeout{10000};
  /// Connections open at once; one more is answered 429 LimitExceededException and closed.
  std::size_t max_connections = 1024;
  /// Connections open at once from one client address; one more is answered 429 too, so that a
  /// single client cannot hold every connection while others wait.
  std::size_t max_connections_per_client = 256;
  /// When not empty, every request needs `Authorization: Bearer <token>` (else 401).
  std::string token;
  /// How retraining trains: FULL or UPDATE of the served version.
  TrainingMode retrain_mode = TrainingMode::Full;
  /// Retrain every solution after this many new events (0: never by count).
  std::size_t retrain_after_events = 0;
  /// Retrain every solution on this period while serving (0: never by time).
  std::chrono::seconds retrain_every{0};
  /// Where the service logs (retrain failures and successes); stderr when empty. Called from any
  /// thread; must not throw.
  std::function<void(const std::string& line)> log;
};

/// One HTTP request, as HttpService::handle() takes it (no socket needed).
struct HttpRequest {
  std::string method;         ///< "GET", "POST", "DELETE", ...
  std::string target;         ///< the path, with an optional query string (ignored)
  std::string authorization;  ///< the Authorization header's value ("" when absent)
  std::string body;
};

/// One HTTP response.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers (Allow, ...)
  std::string body;
};

/// Serves one dataset group over HTTP/1.1: every solution's active version as a campaign (named
/// by the solution), the group's saved filters, and its one write path (LiveDatasetGroup).
///
/// Endpoints take and give Personalize's runtime JSON shapes (field names as in the AWS API):
/// - `POST /recommendations` {userId | itemId, numResults, filterArn, filterValues, context,
///   promotions, metadataColumns: {"ITEMS":[...]}, explain, campaignArn} →
///   {"itemList":[{"itemId","score","promotionName","metadata","reason"}],"recommendationId"}.
///   campaignArn names a solution (a plain name or the last part of an ARN; optional when the
///   group has one); filterArn names a saved filter likewise.
/// - `POST /personalize-ranking` {userId, inputList, filterArn, filterValues, context,
///   metadataColumns, campaignArn} → {"personalizedRanking":[...],"recommendationId"}.
/// - `POST /events` {sessionId, userId, eventList:[1-10 events]}: answered 200 once the accepted
///   events are durable (concurrent requests share one sync), with
///   {"accepted","rejected","duplicates","errors"}; 400 when an event cannot be read (then none is
///   stored) or none is accepted.
/// - `POST /users` {users:[{userId, properties}]}, `POST /items` {items:[{itemId, properties}]},
///   `POST /delete-users` {userIds:[...]}, `POST /delete-items` {itemIds:[...]}.
/// - `POST /filters` {name, filterExpression}, `GET /filters`, `GET|DELETE /filters/{name}`.
/// - `GET /solutions`; `POST /solutions/{name}/versions` trains a new version in the background
///   and serves it when done (202; 409 ResourceInUseException while one is training).
/// - `GET /health`; `GET /metrics` (Prometheus text: requests and latency per endpoint, events,
///   active versions, training runs and failures).
///
/// Errors are Personalize's: {"__type":"InvalidInputException","message":...} with 400,
/// ResourceNotFoundException 404, LimitExceededException 429, and 401, 405, 413, 431 for what
/// HTTP itself refuses. No request names a file: solutions and filters are looked up by name.
///
/// Threads: start() runs one event loop on a fixed pool of threads that both read sockets and
/// answer requests (a request waiting for its events to be durable holds its thread). Every
/// member is safe to call from any thread.
class TAILOR_EXPORT HttpService {
 public:
  /// Opens the store in `directory` for writing (its writer lock is held while the service
  /// lives: a second writer process is refused) and serves it.
  /// @throws what Store::open() throws; Error(NotFound) when no solution has a version
  explicit HttpService(const std::string& directory, HttpServiceOptions options = {},
                       StoreOptions store_options = {});
  /// Serves an opened store (read-write for the write endpoints and retraining to work).
  explicit HttpService(std::unique_ptr<Store> store, HttpServiceOptions options = {});
  /// Serves a group kept in memory: `versions` are the solutions (by their config().name);
  /// filters saved through the API are kept in memory.
  HttpService(std::shared_ptr<LiveDatasetGroup> group, std::vector<SolutionVersion> versions,
              HttpServiceOptions options = {});
  /// stop()s, then stops a background retrain at its training's next step (Campaign's
  /// destructor): what it trained is neither saved nor served.
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  /// Binds `host`:`port` (port 0: any free port, see port()) and serves on `threads` threads (0:
  /// the number of cores). Returns once the socket listens.
  /// @throws tailor::Error(Io) when the address cannot be bound, Error(InvalidArgument) for a bad
  ///         host or when already started
  void start(const std::string& host = "127.0.0.1", std::uint16_t port = 8080, int threads = 0);
  /// Stops accepting, lets requests in flight finish and answers them, closes idle connections,
  /// and joins the threads (forcing the rest closed after 4 seconds). A background retrain goes
  /// on (and is saved and served when it ends); the destructor stops it. Safe to call more than
  /// once.
  void stop();
  /// The bound port (the chosen one after start() with port 0); 0 before start().
  std::uint16_t port() const;

  /// Answers one request without any socket: what the server does once a request is read
  /// (authentication, routing, the endpoint). Never throws.
  HttpResponse handle(const HttpRequest& request);

  /// The Prometheus text of GET /metrics.
  std::string metrics_text() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tailor
