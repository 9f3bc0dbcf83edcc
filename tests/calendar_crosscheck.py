#!/usr/bin/env python3
"""Print Kazakhstan's non-working dates for the given years, one YYYY-MM-DD a line.

Independent source for tests/calendar.rs: the Python `holidays` package
(https://github.com/vacanza/holidays), whose Kazakhstan calendar includes the
moved ("observed") days off and the Government's substituted days off. Its
dates may fall on any day of the week; a holiday on a weekend is listed too.

Usage: python3 tests/calendar_crosscheck.py 2020 2021 ...
       python3 tests/calendar_crosscheck.py --kurban-ait 2026 2027 ...

With --kurban-ait it prints instead the package's first day of Kurban Ait
(Eid al-Adha) of each year, one `YYYY-MM-DD confirmed|estimated` a line: the
package marks a date it computed from the Islamic calendar, not yet confirmed,
"(estimated)".

The test suite was checked against holidays==0.109; install it with
    pip install holidays==0.109
"""

import sys

PINNED_VERSION = "0.109"


def main(argv):
    args = argv[1:]
    kurban_ait = bool(args) and args[0] == "--kurban-ait"
    if kurban_ait:
        args = args[1:]
    try:
        years = [int(arg) for arg in args]
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
    if kurban_ait:
        for date in sorted(kazakhstan):
            for name in kazakhstan.get_list(date):
                if name.startswith("Eid al-Adha"):
                    word = "estimated" if "(estimated)" in name else "confirmed"
                    print(f"{date.isoformat()} {word}")
        return 0
    for date in sorted(kazakhstan):
        print(date.isoformat())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
