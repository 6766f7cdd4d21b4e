// SPDX-License-Identifier: MIT
// A small HTTP/1.1 client over a raw socket, for the service tests: one connection, kept alive,
// requests written and responses read exactly as a real client would.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace tailor::test {

struct Reply {
  int status = 0;                              ///< 0 when the connection closed without one
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
};

class HttpClient {
 public:
  /// Connects to 127.0.0.1:port, from `source` (another loopback address such as 127.0.0.2,
  /// to be a second client) when given.
  explicit HttpClient(std::uint16_t port, int receive_timeout_seconds = 20,
                      const char* source = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    if (source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      if (::inet_pton(AF_INET, source, &from.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        ::close(fd_);
        throw std::runtime_error("bind");
      }
    }
    timeval tv{receive_timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect");
    }
  }
  ~HttpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// One request on the kept-alive connection, and its reply.
  Reply request(const std::string& method, const std::string& target, const std::string& body = "",
                const std::string& extra_headers = "") {
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers;
    if (!body.empty() || method == "POST") {
      text += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n";
    }
    text += "\r\n" + body;
    send_raw(text);
    return read_reply();
  }
  Reply post(const std::string& target, const std::string& body,
             const std::string& extra_headers = "") {
    return request("POST", target, body, extra_headers);
  }
  Reply get(const std::string& target, const std::string& extra_headers = "") {
    return request("GET", target, "", extra_headers);
  }

  /// Writes bytes as they are; false when the connection refused them.
  bool send_raw(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// Reads one reply; status 0 when the server closed the connection first.
  Reply read_reply() {
    Reply reply;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return reply;
    }
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    reply.status = std::stoi(head.substr(9, 3));
    std::size_t line = head.find("\r\n");
    while (line != std::string::npos) {
      const std::size_t next = head.find("\r\n", line + 2);
      const std::string h =
          head.substr(line + 2, next == std::string::npos ? next : next - line - 2);
      const std::size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        reply.headers[name] = value;
      }
      line = next;
    }
    const std::size_t length = std::stoul(
        reply.headers.count("content-length") ? reply.headers["content-length"] : std::string("0"));
    while (buffer_.size() < length) {
      if (!fill()) return Reply{};
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  /// True when the server closes the connection (reads until end of stream or the timeout).
  bool closed_by_server() {
    for (;;) {
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace tailor::test
