# A real sentry-python (Debian python3-sentry-sdk) application used by the end-to-end tests.
# 1.x sends errors to the legacy /store/ endpoint, gzipped, with X-Sentry-Auth.
import json
import os
import sys

import sentry_sdk

sentry_sdk.init(dsn=os.environ["FAULTLINE_DSN"], release="e2e-py@1.0.0", environment="e2e", default_integrations=False)

ids = []


def divide(a, b):
    return a / b  # the same throw site every time


for user in ["alice", "bob", "alice"]:
    sentry_sdk.set_user({"id": user})
    try:
        divide(1, 0)
    except ZeroDivisionError:
        ids.append(sentry_sdk.capture_exception())

sentry_sdk.set_user(None)
for n in (3, 250):
    ids.append(sentry_sdk.capture_message("Retrying job %d after timeout" % n))

sentry_sdk.flush(10)
sys.stdout.write(json.dumps({"ids": ids}) + "\n")
