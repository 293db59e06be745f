"""The morning report: a run or a campaign as one self-contained HTML page, markdown and JSON."""
