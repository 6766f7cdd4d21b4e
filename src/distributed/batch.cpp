// SPDX-License-Identifier: MIT
// Distributed batch inference: rank 0 reads and writes, every rank answers a share of each block.
#include "tailor/distributed/batch.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "batch/batch_lines.hpp"
#include "tailor/distributed/collective.hpp"
#include "tailor/error.hpp"

namespace tailor::distributed {

namespace {

// The failure tests' hook, as in training: TAILOR_MPI_FAIL_AT="RANK:BLOCK" (1-based block).
void maybe_fail(int rank, std::uint64_t block) {
  const char* spec = std::getenv("TAILOR_MPI_FAIL_AT");
  if (!spec) return;
  const std::string s(spec);
  const auto colon = s.find(':');
  if (colon == std::string::npos) return;
  if (std::atoi(s.substr(0, colon).c_str()) == rank &&
      std::strtoull(s.substr(colon + 1).c_str(), nullptr, 10) == block) {
    TAILOR_THROW(ErrorCode::Internal, "rank ", rank, " failed at block ", block,
                 " (TAILOR_MPI_FAIL_AT)");
  }
}

int checked_count(std::size_t n) {
  TAILOR_THROW_IF(n > static_cast<std::size_t>(INT_MAX), ErrorCode::InvalidArgument,
                  "distributed batch: a block of ", n,
                  " bytes is more than one MPI message holds; use fewer lines per block");
  return static_cast<int>(n);
}

// Lines joined with '\n' after each, and split back.
std::string join(const std::vector<std::string>& lines, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t k = begin; k < end; ++k) (out += lines[k]) += '\n';
  return out;
}
std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t from = 0;
  for (std::size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1) {
    lines.push_back(text.substr(from, nl - from));
  }
  return lines;
}

}  // namespace

BatchReport run_batch_inference(MPI_Comm comm, const Campaign& campaign, const std::string& input,
                                const std::string& output, const BatchOptions& options,
                                const std::function<void(std::size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const bool root = rank == 0;
  std::ifstream in;
  std::string tmp;
  FILE* out = nullptr;
  BatchReport report;
  const std::size_t per_rank = std::max<std::size_t>(1, options.lines_per_block);
  auto discard = [&] {
    if (out) std::fclose(out);
    out = nullptr;
    if (!tmp.empty()) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
    }
  };
  try {
    collective_step(comm, [&] {
      if (!root) return;
      detail::check_batch_paths(input, output);
      in.open(input, std::ios::binary);
      TAILOR_THROW_IF(!in, ErrorCode::Io, "cannot open batch input ", input);
      out = detail::create_batch_temporary(output, tmp);
    });
    std::vector<std::string> lines;
    for (std::uint64_t block = 1;; ++block) {
      // Rank 0 reads the block and sends each rank its share: lines [r·n/P, (r+1)·n/P).
      std::vector<int> sizes(static_cast<std::size_t>(ranks)), displs(sizes.size());
      std::string sendbuf;
      std::uint64_t count = 0;
      collective_step(comm, [&] {
        if (!root) return;
        detail::read_batch_lines(in, per_rank * static_cast<std::size_t>(ranks), lines);
        TAILOR_THROW_IF(in.bad(), ErrorCode::Io, "error while reading batch input ", input);
        count = lines.size();
        for (int r = 0; r < ranks; ++r) {
          const std::size_t b = lines.size() * r / ranks, e = lines.size() * (r + 1) / ranks;
          displs[r] = checked_count(sendbuf.size());
          sendbuf += join(lines, b, e);
          sizes[r] = checked_count(sendbuf.size()) - displs[r];
        }
      });
      MPI_Bcast(&count, 1, MPI_UINT64_T, 0, comm);
      if (count == 0) break;
      int my_size = 0;
      MPI_Scatter(sizes.data(), 1, MPI_INT, &my_size, 1, MPI_INT, 0, comm);
      std::string mine(static_cast<std::size_t>(my_size), '\0');
      MPI_Scatterv(sendbuf.data(), sizes.data(), displs.data(), MPI_CHAR, mine.data(), my_size,
                   MPI_CHAR, 0, comm);

      std::string answers;
      unsigned long long failed = 0;
      collective_step(comm, [&] {
        maybe_fail(rank, block);
        std::size_t f = 0;
        for (const std::string& line :
             detail::answer_batch_lines(campaign, split(mine), options, f)) {
          answers += line;
        }
        failed = f;
        checked_count(answers.size());
      });

      // Rank 0 gathers the answers in rank order, which is input order, and writes them.
      const int answer_size = static_cast<int>(answers.size());
      MPI_Gather(&answer_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, comm);
      std::string gathered;
      collective_step(comm, [&] {
        if (!root) return;
        std::size_t total = 0;
        for (int r = 0; r < ranks; ++r) {
          displs[r] = checked_count(total);
          total += static_cast<std::size_t>(sizes[r]);
        }
        gathered.resize(static_cast<std::size_t>(checked_count(total)));
      });
      MPI_Gatherv(answers.data(), answer_size, MPI_CHAR, gathered.data(), sizes.data(),
                  displs.data(), MPI_CHAR, 0, comm);
      unsigned long long failed_total = 0;
      MPI_Allreduce(&failed, &failed_total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
      collective_step(comm, [&] {
        if (!root) return;
        std::fwrite(gathered.data(), 1, gathered.size(), out);
        TAILOR_THROW_IF(std::ferror(out), ErrorCode::Io, "cannot write batch output ", tmp);
      });
      report.lines_read += count;
      report.failed += failed_total;
      report.succeeded += count - failed_total;
      if (progress) progress(report.lines_read);
    }
    collective_step(comm, [&] {
      if (!root) return;
      detail::publish_batch_output(out, tmp, output);
      tmp.clear();
    });
  } catch (...) {
    discard();
    throw;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace tailor::distributed
