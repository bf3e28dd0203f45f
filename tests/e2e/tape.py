"""Shared by the end-to-end tests' analysis scripts (python3 - with
sys.path holding this folder): reading tapetool segments and printing the
verdicts lib.sh's record_verdicts counts."""

S = 1e9
STEP_HZ = [400 * 1.1 ** k for k in range(12)]   # make_staircase's steps


def step_of(hz):
    """The staircase step (0-11) a segment's frequency is, or None."""
    for k, f in enumerate(STEP_HZ):
        if abs(hz - f) <= f * 0.02:
            return k
    return None


def end_ns(segment):
    return segment["start_realtime_ns"] + segment["duration_ms"] * 1e6


def verdict(ok, text):
    print(f"{'PASS' if ok else 'FAIL'} {text}")
