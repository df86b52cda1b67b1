"""One search over threads, posts, case studies and sessions: features hand their documents here on write."""
