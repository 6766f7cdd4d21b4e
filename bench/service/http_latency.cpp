// SPDX-License-Identifier: MIT
// Latency of POST /recommendations over one kept-alive connection to a running `tailor serve`:
// each request waits for the previous answer, so the times are a request's own (no queueing).
//   tailor_http_latency PORT [REQUESTS] [NUM_RESULTS] [FILTER]
// Users cycle through user-0000 .. user-0999 (the sample data's).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "service/http_client.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [REQUESTS] [NUM_RESULTS] [FILTER]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int requests = argc > 2 ? std::stoi(argv[2]) : 20000;
  const std::string num_results = argc > 3 ? argv[3] : "25";
  const std::string filter = argc > 4 ? std::string(",\"filterArn\":\"") + argv[4] + "\"" : "";
  tailor::test::HttpClient client(port);
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(requests));
  char user[24];
  for (int k = -1000; k < requests; ++k) {  // the first 1000 warm up
    std::snprintf(user, sizeof user, "user-%04d", (k + 1000) % 1000);
    const std::string body =
        std::string("{\"userId\":\"") + user + "\",\"numResults\":" + num_results + filter + "}";
    const auto start = std::chrono::steady_clock::now();
    const tailor::test::Reply r = client.post("/recommendations", body);
    const auto end = std::chrono::steady_clock::now();
    if (r.status != 200) {
      std::fprintf(stderr, "status %d: %s\n", r.status, r.body.c_str());
      return 1;
    }
    if (k >= 0) micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<std::size_t>(q * (micros.size() - 1))]; };
  double sum = 0;
  for (double m : micros) sum += m;
  std::printf("%d requests: p50 %.1f us, p90 %.1f us, p99 %.1f us, mean %.1f us\n", requests,
              at(0.5), at(0.9), at(0.99), sum / static_cast<double>(micros.size()));
  return 0;
}
