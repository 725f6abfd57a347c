"""Process plumbing every layer may use: atomic writes, the child-output relay and the
collector freeze of long-lived task processes. Nothing here knows about energy data."""
