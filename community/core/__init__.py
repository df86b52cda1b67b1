"""What every feature shares: models' building blocks, Markdown, permissions, time zones, paging, mail."""
