"""The public API for API-key clients: /api/send_sms on the dispatch engine, and its help page (API-2, API-4, API-5)."""
