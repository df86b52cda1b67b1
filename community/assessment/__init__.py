"""The certification framework, each city's self-assessment, its evidence and the mentors' review."""
