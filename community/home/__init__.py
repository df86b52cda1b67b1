"""The home page, the first thing every visitor and member sees."""
