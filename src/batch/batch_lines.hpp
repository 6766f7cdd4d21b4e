// SPDX-License-Identifier: MIT
// The pieces of run_batch_inference() that the distributed batch job reuses (internal).
#pragma once

#include <cstddef>
#include <cstdio>
#include <istream>
#include <string>
#include <vector>

#include "tailor/batch/batch_inference.hpp"

namespace tailor::detail {

/// Answers input lines (blank lines already dropped): one output line each, newline included, in
/// the order given, exactly as run_batch_inference() writes them; `failed` gets the number of
/// lines answered with an "error".
std::vector<std::string> answer_batch_lines(const Campaign& campaign,
                                            std::vector<std::string> texts,
                                            const BatchOptions& options, std::size_t& failed);

/// Up to `count` request lines from `in` into `lines` (cleared first): blank lines skipped, a
/// trailing '\r' dropped; fewer only at the end of the input.
void read_batch_lines(std::istream& in, std::size_t count, std::vector<std::string>& lines);

/// run_batch_inference()'s checks of its two paths, before anything is written.
/// @throws tailor::Error(InvalidArgument) as run_batch_inference() documents
void check_batch_paths(const std::string& input, const std::string& output);

/// A new, uniquely named temporary file next to `output`, open for writing; its name goes to
/// `tmp` (renamed over `output` when the job succeeds).
/// @throws tailor::Error(Io)
FILE* create_batch_temporary(const std::string& output, std::string& tmp);

/// Closes `out` (set to null) and renames the temporary file `tmp` over `output`: the job's
/// output appears whole or not at all.
/// @throws tailor::Error(Io) when a write failed, or the close or the rename did (`tmp` is left
///         for the caller to remove)
void publish_batch_output(FILE*& out, const std::string& tmp, const std::string& output);

}  // namespace tailor::detail
