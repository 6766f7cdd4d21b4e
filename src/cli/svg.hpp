// SPDX-License-Identifier: MIT
// Inline SVG charts for tailor report: line charts and grouped bar charts, self-contained (no
// scripts, fonts or external references).
#pragma once

#include <string>
#include <vector>

namespace tailor::cli {

/// A named series of y values (one per x or per group).
struct Series {
  std::string name;
  std::vector<double> values;
};

/// Text with &, <, >, " and ' escaped for HTML and SVG.
std::string html_escape(const std::string& text);

/// Lines of `series` over x = x_labels (same length as each series' values).
std::string svg_line_chart(const std::string& title, const std::vector<std::string>& x_labels,
                           const std::vector<Series>& series, const std::string& y_label);

/// Bars of each series side by side in each group.
std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& groups,
                          const std::vector<Series>& series, const std::string& y_label);

}  // namespace tailor::cli
