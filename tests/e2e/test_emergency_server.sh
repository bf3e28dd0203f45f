#!/bin/bash
# test_emergency.sh on the test card behaving like a sound server's plugin
# (loaxatest_server: a rewind is accepted but not honoured): the emergency
# must still air whole, the cut item neither lose nor repeat audio, and the
# as-run log agree with the tape.
LOAXA_TEST_CARD=loaxatest_server exec "$(dirname "$0")/test_emergency.sh" "$@"
