"""The vote API's tests: standard-library unittest (plus fastapi.testclient, on Debian's python3-httpx).

    python3 -m unittest discover -s tests -t .

VOTE_TEST_DATABASE_URL=postgresql://… adds the PostgreSQL tests (they are skipped without it);
VOTE_TEST_PYTHON (a JSON list) is the command that starts this interpreter for the server
tests (default: sys.executable).
"""

import logging

# the app's warnings (a database that is down, on purpose) stay out of the test report;
# tests that care read them with assertLogs
logging.getLogger("vote_api").addHandler(logging.NullHandler())
