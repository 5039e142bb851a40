"""The organisation: bodies and their pages, and the seed that loads the real organisation."""
