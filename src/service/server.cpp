// SPDX-License-Identifier: MIT
// HttpService's server: HTTP/1.1 with keep-alive on Boost.Beast over Asio. One io_context run by
// a fixed pool of threads; each connection is a chain of asynchronous reads and writes on its own
// strand (no thread per connection), with idle, read and write deadlines.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <optional>
#include <thread>
#include <unordered_map>

#include "io/json.hpp"
#include "service/service_impl.hpp"

namespace tailor {
namespace service {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Session;

class Server {
 public:
  Server(HttpService::Impl& service, const std::string& host, std::uint16_t port, int threads);
  ~Server() { stop(); }
  void stop();
  std::uint16_t port() const { return port_; }

  HttpService::Impl& service;
  const HttpServiceOptions& options;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};

  void add(const std::shared_ptr<Session>& session);
  void remove(Session* session);
  // Counts a new connection of `client` (its address); false when that client is at its limit.
  bool admit(const std::string& client);
  // The end of a connection that admit() counted.
  void release(const std::string& client);

 private:
  void accept();
  void schedule_retrain();

  // Declared before the io_context: sessions that it destroys unregister here.
  std::mutex mutex_;
  std::condition_variable finished_;
  std::size_t running_ = 0;  // threads still in run()
  bool stopped_ = false;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::size_t> per_client_;  // open connections by address
  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::strand<net::io_context::executor_type> strand_;  // the acceptor's and the timer's
  tcp::acceptor acceptor_;
  net::steady_timer retrain_timer_;
  net::steady_timer accept_timer_;  // the pause after a failed accept
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Server& server, std::string client)
      : stream_(std::move(socket)), server_(server), client_(std::move(client)) {}
  ~Session() {
    server_.remove(this);
    server_.release(client_);
    --server_.connections;
  }

  void run(bool refuse) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), refuse] {
      if (refuse) {
        HttpResponse r;
        r.status = 429;
        r.body = "{\"__type\":\"LimitExceededException\",\"message\":\"too many connections\"}";
        self->server_.service.metrics.record(Endpoint::Other, r.status, 0);
        self->send(std::move(r), false, true);
      } else {
        self->wait_request();
      }
    });
  }

  /// Closes the connection if it waits for a request; one being read or answered finishes.
  void stop_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  // Waits for the first byte of the next request under the idle deadline; the request itself
  // then has the read deadline.
  void wait_request() {
    if (server_.stopping) return close();
    if (buffer_.size() > 0) return read_header();
    idle_ = true;
    stream_.expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    version_ = 11;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.options.max_header_bytes, 0xFFFFFFFFu)));
    parser_->body_limit(server_.options.max_body_bytes);
    deadline_ = std::chrono::steady_clock::now() + server_.options.read_timeout;
    stream_.expires_at(deadline_);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    // Only "chunked" is decoded, as the one Transfer-Encoding. With another last coding the
    // body's length is unknown (RFC 9112 6.3): read as no body, its bytes would be taken for the
    // next request, one a proxy framing the message differently never saw.
    const auto& header = parser_->get();
    const auto codings = header.count(http::field::transfer_encoding);
    if (codings > 1 ||
        (codings == 1 && !beast::iequals(header[http::field::transfer_encoding], "chunked"))) {
      return refuse(400, "InvalidInputException",
                    "malformed HTTP request: Transfer-Encoding must be chunked alone");
    }
    // curl and others wait for "100 Continue" before sending a larger body.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                       [self = shared_from_this()](beast::error_code e, std::size_t) {
                         if (e) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_at(deadline_);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read_error(beast::error_code ec) {
    const char* type = nullptr;
    int status = 400;
    std::string message;
    if (ec == http::error::header_limit) {
      status = 431;
      type = "RequestHeaderFieldsTooLargeException";
      message = "the request's headers exceed " + std::to_string(server_.options.max_header_bytes) +
                " bytes";
    } else if (ec == http::error::body_limit) {
      status = 413;
      type = "PayloadTooLargeException";
      message =
          "the request body exceeds " + std::to_string(server_.options.max_body_bytes) + " bytes";
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      type = "InvalidInputException";
      message = "malformed HTTP request: " + ec.message();
    }
    if (!type) return close();  // the peer went away or was too slow: nothing to answer
    refuse(status, type, message);
  }

  // Answers a request that is not read further, and closes the connection.
  void refuse(int status, const char* type, const std::string& message) {
    HttpResponse r;
    r.status = status;
    r.body = std::string("{\"__type\":\"") + type + "\",\"message\":";
    detail::append_json_string(r.body, message);
    r.body += "}";
    server_.service.metrics.record(Endpoint::Other, status, 0);
    send(std::move(r), false, true);
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.authorization = std::string(req[http::field::authorization]);
    request.body = std::move(req.body());
    const bool keep = req.keep_alive();
    version_ = req.version();
    send(server_.service.handle(request), keep, false);
  }

  // Writes `r`; then waits for the next request, or closes (after draining what the client still
  // sends when `drain`, so that it reads the answer instead of a reset).
  void send(HttpResponse r, bool keep_alive, bool drain) {
    keep_alive = keep_alive && !server_.stopping;
    response_ = {};
    // The request's version: an HTTP/1.0 client keeps the connection only when told keep-alive.
    response_.version(version_);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::server, "tailor");
    response_.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(server_.options.write_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this(), keep_alive, drain](beast::error_code ec, std::size_t) {
          if (ec) return self->close();
          if (keep_alive) return self->wait_request();
          if (drain) return self->drain();
          self->close();
        });
  }

  void drain() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain_more();
  }
  void drain_more() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(65536),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain_more();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Server& server_;
  const std::string client_;  // the client's address, counted by Server::admit()
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::chrono::steady_clock::time_point deadline_;
  bool idle_ = false;      // waiting for a request (only touched on the session's strand)
  unsigned version_ = 11;  // of the request answered (11 for one that could not be read)
};

Server::Server(HttpService::Impl& service_, const std::string& host, std::uint16_t port,
               int threads)
    : service(service_),
      options(service_.options),
      ioc_(threads > 0 ? threads : 1),
      strand_(net::make_strand(ioc_)),
      acceptor_(strand_),
      retrain_timer_(strand_),
      accept_timer_(strand_) {
  beast::error_code ec;
  tcp::endpoint endpoint;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(ioc_);
    const auto results = resolver.resolve(host, std::to_string(port), ec);
    TAILOR_THROW_IF(ec || results.empty(), ErrorCode::InvalidArgument, "cannot resolve host \"",
                    host, "\": ", ec.message());
    endpoint = results.begin()->endpoint();
  }
  const std::string where = host + ":" + std::to_string(port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  TAILOR_THROW_IF(ec, ErrorCode::Io, "cannot listen on ", where, ": ", ec.message());
  port_ = acceptor_.local_endpoint().port();

  work_.emplace(ioc_.get_executor());
  accept();
  schedule_retrain();
  const int n =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  running_ = static_cast<std::size_t>(n);
  for (int k = 0; k < n; ++k) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          break;
        } catch (const std::exception& e) {
          service.log(std::string("a connection failed: ") + e.what());
        }
      }
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
      finished_.notify_all();
    });
  }
}

void Server::accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors, say: accepting again at once fails again at once, a loop that
      // takes a whole core. The connection waits in the backlog while we wait a little.
      accept_timer_.expires_after(std::chrono::milliseconds(50));
      accept_timer_.async_wait([this](beast::error_code e) {
        if (!e && !stopping) accept();
      });
      return;
    }
    beast::error_code ignored;  // answers are whole writes: no reason to wait for more bytes
    socket.set_option(tcp::no_delay(true), ignored);
    const std::string client = socket.remote_endpoint(ignored).address().to_string();
    const bool admitted = admit(client);  // counted even when refused: the session releases it
    const bool refuse = ++connections > options.max_connections || !admitted;
    auto session = std::make_shared<Session>(std::move(socket), *this, client);
    add(session);
    session->run(refuse);
    accept();
  });
}

void Server::schedule_retrain() {
  if (options.retrain_every.count() <= 0) return;
  retrain_timer_.expires_after(options.retrain_every);
  retrain_timer_.async_wait([this](beast::error_code ec) {
    if (ec || stopping) return;
    service.retrain_all();
    schedule_retrain();
  });
}

void Server::add(const std::shared_ptr<Session>& session) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.emplace(session.get(), session);
}

void Server::remove(Session* session) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(session);
}

bool Server::admit(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  return ++per_client_[client] <= options.max_connections_per_client;
}

void Server::release(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

void Server::stop() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  stopping = true;
  net::post(strand_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    retrain_timer_.cancel();
    accept_timer_.cancel();
  });
  for (const auto& s : open) s->stop_if_idle();
  open.clear();
  work_.reset();
  {
    // Requests in flight finish; what is still open after 4 seconds (a client sending slowly)
    // is cut off, so that a stop ends within the 5 seconds a supervisor waits.
    std::unique_lock<std::mutex> lock(mutex_);
    if (!finished_.wait_for(lock, std::chrono::seconds(4), [this] { return running_ == 0; })) {
      ioc_.stop();
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void ServerDeleter::operator()(Server* server) const { delete server; }

}  // namespace service

// --- HttpService -----------------------------------------------------------------------------

namespace {
std::vector<SolutionVersion> stored_versions(const Store& store) {
  std::vector<SolutionVersion> versions;
  for (const std::string& name : store.solutions()) versions.push_back(store.load_version(name));
  return versions;
}
}  // namespace

HttpService::Impl::~Impl() {
  // Stop the server before the campaigns it answers with go.
  std::lock_guard<std::mutex> lock(server_mutex);
  server.reset();
}

HttpService::HttpService(const std::string& directory, HttpServiceOptions options,
                         StoreOptions store_options)
    : HttpService(Store::open(directory, store_options), std::move(options)) {}

HttpService::HttpService(std::unique_ptr<Store> store, HttpServiceOptions options) {
  TAILOR_THROW_IF(!store, ErrorCode::InvalidArgument, "HttpService needs a store");
  std::vector<SolutionVersion> versions = stored_versions(*store);
  std::shared_ptr<LiveDatasetGroup> group = store->group();
  impl_ = std::make_unique<Impl>(std::move(store), std::move(group), std::move(versions),
                                 std::move(options));
}

HttpService::HttpService(std::shared_ptr<LiveDatasetGroup> group,
                         std::vector<SolutionVersion> versions, HttpServiceOptions options)
    : impl_(std::make_unique<Impl>(nullptr, std::move(group), std::move(versions),
                                   std::move(options))) {}

HttpService::~HttpService() { stop(); }

void HttpService::start(const std::string& host, std::uint16_t port, int threads) {
  std::lock_guard<std::mutex> lock(impl_->server_mutex);
  TAILOR_THROW_IF(impl_->server != nullptr, ErrorCode::InvalidArgument,
                  "the service is already started");
  impl_->server.reset(new service::Server(*impl_, host, port, threads));
}

void HttpService::stop() {
  std::unique_ptr<service::Server, service::ServerDeleter> server;
  {
    std::lock_guard<std::mutex> lock(impl_->server_mutex);
    server = std::move(impl_->server);
  }
  if (server) server->stop();
}

std::uint16_t HttpService::port() const {
  std::lock_guard<std::mutex> lock(impl_->server_mutex);
  return impl_->server ? impl_->server->port() : 0;
}

HttpResponse HttpService::handle(const HttpRequest& request) { return impl_->handle(request); }

std::string HttpService::metrics_text() const { return impl_->metrics_text(); }

}  // namespace tailor
