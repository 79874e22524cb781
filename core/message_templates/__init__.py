"""Campaign templates per channel (TPL-1, TPL-5) and the rendering of their variables (TPL-3)."""
