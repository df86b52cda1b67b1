"""Notifications: in-app, real-time and e-mail notices that features send to people, and daily digests."""
