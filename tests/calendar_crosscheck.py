#!/usr/bin/env python3
"""Print Kazakhstan's non-working dates for the given years, one YYYY-MM-DD a line.

Independent source for tests/calendar.rs: the Python `holidays` package
(https://github.com/vacanza/holidays), whose Kazakhstan calendar includes the
moved ("observed") days off and the Government's substituted days off. Its
dates may fall on any day of the week; a holiday on a weekend is listed too.

Usage: python3 tests/calendar_crosscheck.py 2020 2021 ...

The test suite was checked against holidays==0.109; install it with
    pip install holidays==0.109
"""

import sys

PINNED_VERSION = "0.109"


def main(argv):
    try:
        years = [int(arg) for arg in argv[1:]]
    except ValueError:
        print(f"usage: {argv[0]} YEAR...", file=sys.stderr)
        return 2
    if not years:
        print(f"usage: {argv[0]} YEAR...", file=sys.stderr)
        return 2
    try:
        import holidays
    except ImportError:
        print(
            "the Python package `holidays` is missing: "
            f"pip install holidays=={PINNED_VERSION}",
            file=sys.stderr,
        )
        return 3
    if holidays.__version__ != PINNED_VERSION:
        print(
            f"warning: holidays {holidays.__version__} installed, the test was "
            f"checked against {PINNED_VERSION} (pip install holidays=={PINNED_VERSION})",
            file=sys.stderr,
        )
    kazakhstan = holidays.country_holidays("KZ", years=years)
    for date in sorted(kazakhstan):
        print(date.isoformat())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
