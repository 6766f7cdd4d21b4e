// SPDX-License-Identifier: MIT
// Inline SVG charts.
#include "cli/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tailor::cli {
namespace {

constexpr double kWidth = 560, kHeight = 300;
constexpr double kLeft = 60, kRight = 150, kTop = 30, kBottom = 50;
const char* const kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"};

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

std::string tick(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

double top_of(const std::vector<Series>& series) {
  double top = 0;
  for (const Series& s : series) {
    for (double v : s.values) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
  }
  return top > 0 ? top * 1.1 : 1.0;
}

// The frame: title, y axis with ticks, x axis, y label and the legend.
std::string frame(const std::string& title, const std::vector<Series>& series,
                  const std::string& y_label, double top) {
  std::string out = "<svg width=\"" + num(kWidth) + "\" height=\"" + num(kHeight) +
                    "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) +
                    "\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">";
  out += "<title>" + html_escape(title) + "</title>";
  out += "<text x=\"" + num(kLeft) + "\" y=\"18\" font-size=\"13\" font-weight=\"bold\">" +
         html_escape(title) + "</text>";
  const double plot_h = kHeight - kTop - kBottom;
  for (int t = 0; t <= 4; ++t) {
    const double y = kTop + plot_h * (1 - t / 4.0);
    out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) + "\" y1=\"" + num(y) +
           "\" y2=\"" + num(y) + "\" stroke=\"#ddd\"/>";
    out += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
           tick(top * t / 4.0) + "</text>";
  }
  out += "<text x=\"14\" y=\"" + num(kTop + plot_h / 2) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + num(kTop + plot_h / 2) + ")\">" +
         html_escape(y_label) + "</text>";
  for (std::size_t s = 0; s < series.size(); ++s) {
    const double y = kTop + 14.0 * static_cast<double>(s);
    out += "<rect x=\"" + num(kWidth - kRight + 12) + "\" y=\"" + num(y) +
           "\" width=\"12\" height=\"10\" fill=\"" + kColours[s % 5] + "\"/>";
    out += "<text x=\"" + num(kWidth - kRight + 28) + "\" y=\"" + num(y + 9) + "\">" +
           html_escape(series[s].name) + "</text>";
  }
  return out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_line_chart(const std::string& title, const std::vector<std::string>& x_labels,
                           const std::vector<Series>& series, const std::string& y_label) {
  const double top = top_of(series);
  std::string out = frame(title, series, y_label, top);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const std::size_t n = x_labels.size();
  auto x_of = [&](std::size_t k) {
    return kLeft + (n > 1 ? plot_w * static_cast<double>(k) / static_cast<double>(n - 1) : 0);
  };
  for (std::size_t k = 0; k < n; ++k) {
    // Every label when few, else about eight.
    if (n > 10 && k % ((n + 7) / 8) != 0 && k + 1 != n) continue;
    out += "<text x=\"" + num(x_of(k)) + "\" y=\"" + num(kHeight - kBottom + 16) +
           "\" text-anchor=\"middle\">" + html_escape(x_labels[k]) + "</text>";
  }
  for (std::size_t s = 0; s < series.size(); ++s) {
    std::string points;
    for (std::size_t k = 0; k < std::min(n, series[s].values.size()); ++k) {
      const double v = std::isfinite(series[s].values[k]) ? series[s].values[k] : 0.0;
      points += num(x_of(k)) + "," + num(kTop + plot_h * (1 - v / top)) + " ";
    }
    out += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(kColours[s % 5]) +
           "\" points=\"" + points + "\"/>";
  }
  return out + "</svg>";
}

std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& groups,
                          const std::vector<Series>& series, const std::string& y_label) {
  const double top = top_of(series);
  std::string out = frame(title, series, y_label, top);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const double group_w = plot_w / std::max<double>(1, static_cast<double>(groups.size()));
  const double bar_w = group_w * 0.8 / std::max<double>(1, static_cast<double>(series.size()));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double x0 = kLeft + group_w * static_cast<double>(g);
    out += "<text x=\"" + num(x0 + group_w / 2) + "\" y=\"" + num(kHeight - kBottom + 16) +
           "\" text-anchor=\"middle\">" + html_escape(groups[g]) + "</text>";
    for (std::size_t s = 0; s < series.size(); ++s) {
      const double v = g < series[s].values.size() && std::isfinite(series[s].values[g])
                           ? series[s].values[g]
                           : 0.0;
      const double h = plot_h * v / top;
      out += "<rect x=\"" + num(x0 + group_w * 0.1 + bar_w * static_cast<double>(s)) + "\" y=\"" +
             num(kTop + plot_h - h) + "\" width=\"" + num(bar_w) + "\" height=\"" + num(h) +
             "\" fill=\"" + kColours[s % 5] + "\"><title>" + html_escape(series[s].name) + ": " +
             tick(v) + "</title></rect>";
    }
  }
  return out + "</svg>";
}

}  // namespace tailor::cli
