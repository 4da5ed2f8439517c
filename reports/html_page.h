// The pieces every self-contained page of the reports shares (report.html, plan.html):
// the head with its Content-Security-Policy (default-src 'none': the page can fetch
// nothing) and style, a captioned figure, and the footer that marks the page complete.
#pragma once

#include <string>

namespace liveorigin::reports {

std::string html_page_head(const std::string& title);
std::string html_figure(const std::string& caption, const std::string& note, const std::string& chart);
// <footer id="report-complete" data-complete="1">: `what`, and how the page was made.
std::string html_footer(const std::string& what);

}  // namespace liveorigin::reports
