#!/bin/sh
# Runs the PHP client library's PHPUnit tests from any directory; exits non-zero on a failure.
# Extra arguments go to phpunit (e.g. --filter Signature).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec phpunit -c "$here/phpunit.xml.dist" "$@"
