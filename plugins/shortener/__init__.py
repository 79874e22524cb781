"""URL shortener plugin: short links on the owner's domains and their click statistics."""
