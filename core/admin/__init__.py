"""Top layer: the Admin Panel pages and API that span domains, and the shell pages (home, language, theme)."""
