"""The certification framework every feature stands on: practice areas, criteria, checklists and prerequisites.

A lower floor: features import it, it imports no feature. What the criterion page shows of threads, sessions and
cases comes from finders the features register (`services.register_related`).
"""
