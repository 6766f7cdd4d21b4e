// SPDX-License-Identifier: MIT
// Writes a benchmark-scale interactions CSV (seeded; same format as data/interactions.csv).
//   tailor_generate_interactions OUT.csv [ROWS] [USERS] [ITEMS] [SEED]
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/synthetic.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0]
              << " OUT.csv [ROWS=5000000] [USERS=100000] [ITEMS=50000] [SEED=42]\n";
    return 2;
  }
  tailor::bench::SyntheticSpec spec;
  if (argc > 2) spec.interactions = std::strtoull(argv[2], nullptr, 10);
  if (argc > 3) spec.users = std::strtoull(argv[3], nullptr, 10);
  if (argc > 4) spec.items = std::strtoull(argv[4], nullptr, 10);
  if (argc > 5) spec.seed = std::strtoull(argv[5], nullptr, 10);
  if (spec.users == 0 || spec.items == 0) {
    std::cerr << "USERS and ITEMS must be positive\n";
    return 2;
  }
  const std::string csv = tailor::bench::synthetic_csv(spec);
  std::FILE* f = std::fopen(argv[1], "wb");
  if (!f || std::fwrite(csv.data(), 1, csv.size(), f) != csv.size() || std::fclose(f) != 0) {
    std::cerr << "cannot write " << argv[1] << "\n";
    return 1;
  }
  std::cout << "wrote " << spec.interactions << " rows (" << csv.size() << " bytes) to " << argv[1]
            << "\n";
  return 0;
}
