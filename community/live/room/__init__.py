"""A live session's room: its log, who is there, the chat, the other actions, and sending its events."""
