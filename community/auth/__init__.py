"""Accounts: users, roles, sign-in, registration, profiles, password resets and API tokens."""
