"""Finished reports: the store, how sections are rendered (figure marks, sanitising),
the report page's view, and the exports (Markdown, HTML, PDF, JSON)."""
