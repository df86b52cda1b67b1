"""Live sessions: scheduling, registration, calendars, the real-time room and its archive."""
