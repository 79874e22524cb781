"""Numbering: the E.212/E.164 book, number normalisation and prefix → network resolution (NUM-1…3)."""
