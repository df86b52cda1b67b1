"""Cities of the cohort and their members."""
