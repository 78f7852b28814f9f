"""Read-only functions for pages, the API and reports."""
