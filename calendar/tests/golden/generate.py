#!/usr/bin/env python3
"""Golden tables for opsc-calendar, from an independent oracle.

Run with Python 3.11+ (stdlib `zoneinfo`, system tz database):

    /usr/bin/python3 calendar/tests/golden/generate.py

It writes `cases.csv` (one calendar and window per line) and
`occurrences.csv` (the expected occurrences of each case) next to itself.
The Rust test `calendar/tests/golden.rs` reads them; it never runs this.

The oracle shares no algorithm with the crate. The crate walks matching wall
times and maps each to instants; this script walks *instants*, minute by
minute, asks `zoneinfo` for each one's wall time, and keeps the ones the
expression matches (PEP 495 `fold` tells the two passes of a repeated hour
apart). Wall times no instant shows (a spring-forward gap) are found by
walking wall times and checking each one round-trips; such a wall time lands
on the first instant whose wall clock is past it. The daylight-saving policy
is then applied, and occurrences that share an instant are merged:

- a wall time shown once: `regular`;
- shown twice: `overlap_first` (fold 0) / `overlap_second` (fold 1), kept per
  `overlap: first | second | both`;
- never shown: `shifted_from_gap` (`gap: shift`) or `skipped_gap` (`skip`);
- interval expressions (hour field starting with `*`) keep both passes of an
  overlap and shift gap wall times whatever the policy;
- at most one occurrence per instant: a regular or overlap fire beats a
  shifted one, which beats a skipped one; among gap wall times landing on the
  same instant the earliest is kept.
"""

import csv
import pathlib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

HERE = pathlib.Path(__file__).resolve().parent
UTC = timezone.utc
MINUTE = timedelta(minutes=1)

DST_ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "America/Santiago",
]
FLAT_ZONES = ["Asia/Kolkata", "Atlantic/Reykjavik"]
YEARS = range(2025, 2030)

FIXED = ["30 2 * * *", "30 1 * * *", "0 1 * * *", "0 2 * * *", "0 3 * * *", "@daily", "30 23 * * *"]
ALL_POLICIES = [(g, o) for g in ("shift", "skip") for o in ("first", "second", "both")]
# Interval expressions ignore the policy; `*/15` is checked under two
# opposite ones to keep the tables small, `0 *` under all six.
INTERVAL = {"*/15 * * * *": [("shift", "first"), ("skip", "second")], "0 * * * *": ALL_POLICIES}
HALF_WINDOW = {"fixed": timedelta(hours=6), "interval": timedelta(hours=3)}

PRIORITY = {"regular": 3, "overlap_first": 3, "overlap_second": 3, "shifted_from_gap": 2, "skipped_gap": 1}
NICKNAMES = {"@daily": "0 0 * * *"}


def parse(expr):
    """Minute and hour sets of the expressions used here (day fields are `*`)."""
    minute, hour, *_ = NICKNAMES.get(expr, expr).split()

    def values(field, top):
        if field == "*":
            return set(range(top))
        if field.startswith("*/"):
            return set(range(0, top, int(field[2:])))
        return {int(field)}

    return values(minute, 60), values(hour, 24), hour.startswith("*")


def wall_of(instant, tz):
    local = instant.astimezone(tz)
    return local.replace(tzinfo=None), local.fold


def exists(wall, tz):
    back = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == wall


def repeated(wall, tz):
    return wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()


def minutes(start, stop):
    t = start
    while t <= stop:
        yield t
        t += MINUTE


def oracle(zone, expr, gap, overlap, after, until):
    tz = ZoneInfo(zone)
    mins, hours, interval = parse(expr)
    matches = lambda w: w.minute in mins and w.hour in hours and w.second == 0
    keep_first = interval or overlap in ("first", "both")
    keep_second = interval or overlap in ("second", "both")
    found = []  # (at, local, kind)
    instants = list(minutes(after + MINUTE, until))
    for at in instants:
        wall, fold = wall_of(at, tz)
        if not matches(wall):
            continue
        if not repeated(wall, tz):
            found.append((at, wall, "regular"))
        elif fold == 0 and keep_first:
            found.append((at, wall, "overlap_first"))
        elif fold == 1 and keep_second:
            found.append((at, wall, "overlap_second"))
    first_wall, _ = wall_of(after, tz)
    last_wall, _ = wall_of(until, tz)
    for wall in minutes(first_wall - timedelta(hours=3), last_wall + timedelta(hours=3)):
        if not matches(wall) or exists(wall, tz):
            continue
        landing = next((at for at in instants if wall_of(at, tz)[0] > wall), None)
        if landing is None:
            continue
        kind = "shifted_from_gap" if interval or gap == "shift" else "skipped_gap"
        found.append((landing, wall, kind))
    best = {}
    for at, wall, kind in sorted(found, key=lambda f: (f[0], f[1])):
        if at not in best or PRIORITY[kind] > PRIORITY[best[at][1]]:
            best[at] = (wall, kind)
    rows = []
    for at in sorted(best):
        wall, kind = best[at]
        offset = int(at.astimezone(tz).utcoffset().total_seconds())
        rows.append((at, wall, offset, kind))
    return rows


def transitions(zone):
    tz = ZoneInfo(zone)
    t = datetime(YEARS[0], 1, 1, tzinfo=UTC)
    stop = datetime(YEARS[-1] + 1, 1, 1, tzinfo=UTC)
    found = []
    while t < stop:
        nxt = t + timedelta(hours=1)
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            m = t
            while m.astimezone(tz).utcoffset() == t.astimezone(tz).utcoffset():
                m += MINUTE
            found.append(m)
        t = nxt
    return found


def iso(at):
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    cases, occurrences = [], []

    def add(zone, expr, policy, centre, label):
        kind = "interval" if parse(expr)[2] else "fixed"
        after, until = centre - HALF_WINDOW[kind], centre + HALF_WINDOW[kind]
        case = len(cases) + 1
        cases.append((case, zone, expr, policy[0], policy[1], iso(after), iso(until), label))
        for at, wall, offset, kind in oracle(zone, expr, *policy, after, until):
            occurrences.append((case, iso(at), wall.strftime("%Y-%m-%dT%H:%M:%S"), offset, kind))

    def add_all(zone, centre, label):
        for expr in FIXED:
            for policy in ALL_POLICIES:
                add(zone, expr, policy, centre, label)
        for expr, policies in INTERVAL.items():
            for policy in policies:
                add(zone, expr, policy, centre, label)

    for zone in DST_ZONES:
        for change in transitions(zone):
            tz = ZoneInfo(zone)
            before = (change - MINUTE).astimezone(tz).utcoffset()
            after = change.astimezone(tz).utcoffset()
            label = "spring_forward" if after > before else "fall_back"
            add_all(zone, change, f"{label} {change.astimezone(tz).date()}")
    # Zones without daylight saving, over the days others change.
    for zone in FLAT_ZONES:
        for change in transitions("America/New_York")[2:4] + transitions("Europe/Berlin")[2:4]:
            add_all(zone, change, "no_dst")

    with open(HERE / "cases.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "zone", "cron", "gap", "overlap", "after", "until", "note"])
        w.writerows(cases)
    with open(HERE / "occurrences.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "at", "local", "offset_secs", "kind"])
        w.writerows(occurrences)
    print(f"{len(cases)} cases, {len(occurrences)} occurrences")


if __name__ == "__main__":
    main()
