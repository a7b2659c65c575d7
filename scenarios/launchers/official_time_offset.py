"""Starts the official parsec-cloud server with one change: its clock.

`parsec.DateTime.now()` (the server's only source of the current time for
certificates, tokens and TOTP checks) returns the real time plus an offset in
microseconds read from the file named by PARSEC_MFA_TIME_OFFSET_FILE. The
conformance harness writes that file to move the server's time forward; the
file is read at every call. Everything else is the unmodified `parsec`
command line: arguments are passed through as they are.
"""

import os
import sys

from parsec._parsec import DateTime

OFFSET_FILE = os.environ["PARSEC_MFA_TIME_OFFSET_FILE"]
_real_now = DateTime.now
_last_offset_us = 0


def _offset_us() -> int:
    # Read at every call: the harness replaces the file (rename) within
    # milliseconds, faster than a modification time can tell apart.
    global _last_offset_us
    try:
        with open(OFFSET_FILE) as f:
            _last_offset_us = int(f.read().strip() or 0)
    except (OSError, ValueError):
        pass  # keep the previous offset
    return _last_offset_us


def _offset_now() -> DateTime:
    return DateTime.from_timestamp_micros(_real_now().as_timestamp_micros() + _offset_us())


DateTime.now = staticmethod(_offset_now)

if __name__ == "__main__":
    from parsec.cli import cli

    sys.argv[0] = "parsec"
    sys.exit(cli())
