#!/usr/bin/env bash
# test_cli_live_xapian.sh - the checks of test_cli_live.sh (cli_live_lib.sh)
# on Xapian indexes: one database (add --backend xapian) and two shards
# (add --backend xapian --shards 2; later commands find the kind on disk).
# Registered only when kosearch is built with Xapian (tests/CMakeLists.txt).
source "$(dirname "$0")/cli_lib.sh"
source "$(dirname "$0")/cli_live_lib.sh"
require_xapian

live_suite xapian --backend xapian
live_suite shards --backend xapian --shards 2

finish
