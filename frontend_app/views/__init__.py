"""The dashboard's HTTP routes: pages (HTML, exports) and the JSON API."""
