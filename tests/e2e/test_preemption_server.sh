#!/bin/bash
# test_preemption.sh on the test card behaving like a sound server's plugin
# (loaxatest_server: a rewind is accepted but not honoured).
LOAXA_TEST_CARD=loaxatest_server exec "$(dirname "$0")/test_preemption.sh" "$@"
