"""Time zones: the IANA list users choose from, and conversions for display."""

import zoneinfo
from functools import cache


@cache
def timezone_names():
    """Every canonical IANA zone, sorted; legacy aliases such as "Brazil/East" are left out."""
    names = zoneinfo.available_timezones()
    regions = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/",
               "Europe/", "Indian/", "Pacific/")  # fmt: skip
    return [*sorted(name for name in names if name.startswith(regions)), "UTC"]


def is_timezone(name):
    return name in set(timezone_names())


def zone_label(name):
    """ "America/Sao_Paulo" reads as "America / Sao Paulo" in a list."""
    return name.replace("_", " ").replace("/", " / ")
